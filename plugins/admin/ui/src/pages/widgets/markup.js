// Whether rich text loses markup when the editor rewrites it. PocketBase's TinyMCE keeps any
// HTML (tables, divs, styled spans, classes); Tiptap keeps what its schema knows and silently
// drops the rest. Both texts are parsed (DOMParser) into facts: each element's tag and each of
// its attributes, and the text without its white space; a fact of the original missing from the
// rewrite is markup lost. Tags the editor writes in another spelling count as the same.

const SPELLINGS = { b: "strong", i: "em", strike: "s", del: "s" };

function facts(html) {
  const body = new DOMParser().parseFromString(html, "text/html").body;
  const found = new Set([`text:${body.textContent.replace(/\s+/g, "")}`]);
  for (const element of body.querySelectorAll("*")) {
    const tag = SPELLINGS[element.localName] || element.localName;
    found.add(tag);
    for (const { name, value } of element.attributes) found.add(`${tag}[${name}=${JSON.stringify(value)}]`);
  }
  return found;
}

/** True if ``rewritten`` (the editor's HTML of ``original``) lacks something ``original`` has. */
export function dropsMarkup(original, rewritten) {
  const kept = facts(rewritten);
  return [...facts(original)].some((fact) => !kept.has(fact));
}
