declare module 'virtual:architectures' {
  /** The shipped models (src/parser/files.ts shippedModels): name, the model it equals, the file's text. */
  const list: { name: string; equals: string; text: string }[];
  export default list;
}
