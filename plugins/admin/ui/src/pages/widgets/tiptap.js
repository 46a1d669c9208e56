// The editor field's rich text editor: Tiptap (on ProseMirror), imported on first use, in a
// chunk of its own, so the first load of /_/ stays small. It keeps HTML, as PocketBase's
// TinyMCE does; the toolbar's buttons are described here, drawn by RichText.svelte.
import { Editor, Extension } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Image from "@tiptap/extension-image";

const toggle = (name, label, text, keys, run, active = [name]) => ({ name, label, text, keys, run, active });

/** The toolbar: ``run(chain)`` adds the button's command; link and image open a form instead. */
export const TOOLS = [
  toggle("bold", "Bold", "B", "Control+B", (chain) => chain.toggleBold()),
  toggle("italic", "Italic", "I", "Control+I", (chain) => chain.toggleItalic()),
  ...[1, 2, 3].map((level) => toggle(`heading${level}`, `Heading ${level}`, `H${level}`, `Control+Alt+${level}`,
    (chain) => chain.toggleHeading({ level }), ["heading", { level }])),
  toggle("bulletList", "Bulleted list", "• List", "Control+Shift+8", (chain) => chain.toggleBulletList()),
  toggle("orderedList", "Numbered list", "1. List", "Control+Shift+7", (chain) => chain.toggleOrderedList()),
  toggle("link", "Link", "Link", "Control+K", null),
  toggle("code", "Code", "</>", "Control+E", (chain) => chain.toggleCode()),
  toggle("codeBlock", "Code block", "{ }", "Control+Alt+C", (chain) => chain.toggleCodeBlock()),
  { name: "image", label: "Image from this record's files", text: "Image", run: null },
  { name: "undo", label: "Undo", text: "↶", keys: "Control+Z", run: (chain) => chain.undo() },
  { name: "redo", label: "Redo", text: "↷", keys: "Control+Shift+Z", run: (chain) => chain.redo() },
];

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
    extensions: [
      StarterKit.configure({
        // Links as PocketBase's editor writes them: no target or rel added.
        link: { openOnClick: false, HTMLAttributes: { target: null, rel: null } },
        trailingNode: false, // its empty paragraph after a list would be stored
      }),
      Image.configure({ inline: true }),
      linkKey,
    ],
    editorProps: { attributes },
    onCreate: ({ editor }) => onState(toolStates(editor)),
    onTransaction: ({ editor }) => onState(toolStates(editor)),
    onUpdate: ({ editor }) => onChange(editor.isEmpty ? "" : editor.getHTML()),
  });
}
