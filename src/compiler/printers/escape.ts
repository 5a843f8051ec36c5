const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for XML/HTML text and attribute values (double or single quoted). Every string
 * that comes from a YAML file (names, descriptions, ids) goes through this before it is written
 * into SVG or HTML, so none of it can become markup or script. Characters XML 1.0 forbids
 * (C0 controls other than tab and newline, lone surrogates) become U+FFFD.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[&<>"']/g, (c) => XML[c])
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
