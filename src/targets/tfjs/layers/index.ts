/** Importing this module registers every skipgraph layer for (de)serialisation. */
export { TorchBatchNorm } from './batch_norm.js';
export { ChannelPad } from './channel_pad.js';
export { DropPath } from './drop_path.js';
export { GroupedConv2D, type GroupedConv2DArgs } from './grouped_conv2d.js';
export { GlobalAveragePooling2DKeepDims } from './global_avg_pool.js';
export { HardSigmoid, HardSwish } from './hard_activations.js';
export { LayerScale } from './layer_scale.js';
export { NegInfPadding2D } from './neg_inf_padding.js';
export { Subsample } from './subsample.js';
