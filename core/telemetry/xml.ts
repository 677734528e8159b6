/**
 * Escaping for the XML that fanout writes (JUnit reports). A command's
 * stderr may hold anything: `<&>`, `]]>`, quotes, escape sequences, NUL,
 * invalid UTF-8 (already U+FFFD once decoded), lone surrogates. Characters
 * XML 1.0 cannot hold at all become U+FFFD; markup characters become
 * references, so no CDATA section (and no `]]>` trap) is needed.
 */

/** Everything outside XML 1.0's Char production (lone surrogates included, thanks to the u flag). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const TEXT_REFS: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
/** In attributes, quotes too; tab and line breaks as references, since parsers turn raw ones into spaces. */
const ATTR_REFS: Record<string, string> = { ...TEXT_REFS, '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" };

/** Element content. */
export function xmlText(value: string): string {
  return value.replace(NOT_XML_CHAR, "\uFFFD").replace(/[&<>]/g, (c) => TEXT_REFS[c]!);
}

/** An attribute value, to go between double quotes. */
export function xmlAttr(value: string): string {
  return value.replace(NOT_XML_CHAR, "\uFFFD").replace(/[&<>"'\t\n\r]/g, (c) => ATTR_REFS[c]!);
}
