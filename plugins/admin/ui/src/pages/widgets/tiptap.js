// The editor field's rich text editor: Tiptap (on ProseMirror), imported on first use, in a
// chunk of its own, so the first load of /_/ stays small. It keeps HTML, as PocketBase's
// TinyMCE does; the toolbar's buttons are described here, drawn by RichText.svelte.
import { Editor, Extension, generateHTML, generateJSON, isMacOS } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Image from "@tiptap/extension-image";
import { dropsMarkup } from "./markup.js";

// Tiptap's "Mod": Command on macOS, Control elsewhere, as aria-keyshortcuts names them.
const MOD = isMacOS() ? "Meta" : "Control";
const toggle = (name, label, text, keys, run, active = [name]) => ({ name, label, text, keys, run, active });

/** The toolbar: ``run(chain)`` adds the button's command; link and image open a form instead.
 * ``keys``: the shortcut in aria-keyshortcuts' syntax (the image has none). */
export const TOOLS = [
  toggle("bold", "Bold", "B", `${MOD}+B`, (chain) => chain.toggleBold()),
  toggle("italic", "Italic", "I", `${MOD}+I`, (chain) => chain.toggleItalic()),
  ...[1, 2, 3].map((level) => toggle(`heading${level}`, `Heading ${level}`, `H${level}`, `${MOD}+Alt+${level}`,
    (chain) => chain.toggleHeading({ level }), ["heading", { level }])),
  toggle("bulletList", "Bulleted list", "• List", `${MOD}+Shift+8`, (chain) => chain.toggleBulletList()),
  toggle("orderedList", "Numbered list", "1. List", `${MOD}+Shift+7`, (chain) => chain.toggleOrderedList()),
  toggle("link", "Link", "Link", `${MOD}+K`, null),
  toggle("code", "Code", "</>", `${MOD}+E`, (chain) => chain.toggleCode()),
  toggle("codeBlock", "Code block", "{ }", `${MOD}+Alt+C`, (chain) => chain.toggleCodeBlock()),
  { name: "image", label: "Image from this record's files", text: "Image", run: null },
  { name: "undo", label: "Undo", text: "↶", keys: `${MOD}+Z`, run: (chain) => chain.undo() },
  { name: "redo", label: "Redo", text: "↷", keys: `${MOD}+Shift+Z`, run: (chain) => chain.redo() },
];

/** A shortcut as a tooltip tells it. */
export const keysHint = (keys) => keys.replace("Control", "Ctrl").replace("Meta", "Cmd");

const extensions = () => [
  StarterKit.configure({
    // Links as PocketBase's editor writes them: no target or rel added.
    link: { openOnClick: false, HTMLAttributes: { target: null, rel: null } },
    trailingNode: false, // its empty paragraph after a list would be stored
  }),
  Image.configure({ inline: true }),
];

/** Whether editing ``html`` here would drop some of its markup (see markup.js). */
export function losesMarkup(html) {
  const kit = extensions();
  return dropsMarkup(html, generateHTML(generateJSON(html, kit), kit));
}

/** Each button's ``{pressed, disabled}`` where the selection is. */
export function toolStates(editor) {
  return Object.fromEntries(TOOLS.map((tool) => [tool.name, {
    pressed: tool.active ? editor.isActive(...tool.active) : undefined,
    disabled: tool.run ? !tool.run(editor.can().chain()).run() : false,
  }]));
}

/**
 * Mounts an editor of ``html`` in ``element``; ``destroy()`` it when done. ``onChange`` gets
 * the HTML after each edit ("" once empty), ``onState`` the toolbar's states after each
 * change of the document or the selection, ``onLinkKey`` the Ctrl+K shortcut.
 */
export function createRichText(element, { html, attributes, onChange, onState, onLinkKey }) {
  const linkKey = Extension.create({
    name: "linkKey",
    addKeyboardShortcuts: () => ({ "Mod-k": () => (onLinkKey(), true) }),
  });
  return new Editor({
    element,
    content: html,
    extensions: [...extensions(), linkKey],
    editorProps: { attributes },
    onCreate: ({ editor }) => onState(toolStates(editor)),
    onTransaction: ({ editor }) => onState(toolStates(editor)),
    onUpdate: ({ editor }) => onChange(editor.isEmpty ? "" : editor.getHTML()),
  });
}
