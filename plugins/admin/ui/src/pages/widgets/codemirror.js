// The dashboard's code editor (CodeMirror 6), imported on first use, in a chunk of its own,
// so the first load of /_/ stays small. Any page may mount one: pass the language support
// (imported lazily too, e.g. `json()` from @codemirror/lang-json) and, to have mistakes
// underlined as they are typed, a check that returns where the text goes wrong.
import { EditorState } from "@codemirror/state";
import { EditorView, drawSelection, keymap } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { linter, lintKeymap } from "@codemirror/lint";
import { classHighlighter } from "@lezer/highlight";

/**
 * Mounts an editor in ``parent``; ``destroy()`` the returned view when done.
 * ``attributes``: of the editable element (id, aria-labelledby, ...).
 * ``check(text)``: null, or ``{at, message}`` for a mistake at offset ``at``.
 * Tab is left to move the focus, so the editor is no keyboard trap.
 */
export function createCodeEditor(parent, { doc, language, attributes, onChange, check }) {
  const extensions = [
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(classHighlighter), // tok-* classes, coloured by app.css (light and dark)
    keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap]),
    EditorView.lineWrapping,
    EditorView.contentAttributes.of(attributes),
    EditorView.updateListener.of((update) => update.docChanged && onChange(update.state.doc.toString())),
    language,
  ];
  if (check) extensions.push(linter((view) => diagnostics(view.state.doc.toString(), check), { delay: 200 }));
  return new EditorView({ parent, state: EditorState.create({ doc, extensions }) });
}

function diagnostics(text, check) {
  const problem = check(text);
  if (!problem) return [];
  return [{ from: problem.at, to: Math.min(problem.at + 1, text.length), severity: "error", message: problem.message }];
}
