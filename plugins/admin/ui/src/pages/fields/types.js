// The field types the collection editor offers: each one's options (a component; bool and
// geoPoint have only the shared ones) and the values a new field of it starts with. The
// server fills in whatever is left out and checks it all on save.
import AutodateOptions from "./AutodateOptions.svelte";
import DateOptions from "./DateOptions.svelte";
import DomainOptions from "./DomainOptions.svelte";
import EditorOptions from "./EditorOptions.svelte";
import FileOptions from "./FileOptions.svelte";
import JsonOptions from "./JsonOptions.svelte";
import NumberOptions from "./NumberOptions.svelte";
import PasswordOptions from "./PasswordOptions.svelte";
import RelationOptions from "./RelationOptions.svelte";
import SelectOptions from "./SelectOptions.svelte";
import TextOptions from "./TextOptions.svelte";

export const FIELD_TYPES = {
  text: { options: TextOptions, starts: { min: 0, max: 0, pattern: "", autogeneratePattern: "" } },
  editor: { options: EditorOptions, starts: { maxSize: 0, convertURLs: false } },
  number: { options: NumberOptions, starts: { min: null, max: null, onlyInt: false } },
  bool: { options: null, starts: {} },
  email: { options: DomainOptions, starts: { exceptDomains: [], onlyDomains: [] } },
  url: { options: DomainOptions, starts: { exceptDomains: [], onlyDomains: [] } },
  date: { options: DateOptions, starts: { min: "", max: "" } },
  autodate: { options: AutodateOptions, starts: { onCreate: true, onUpdate: false } },
  select: { options: SelectOptions, starts: { values: [], maxSelect: 1 } },
  file: { options: FileOptions, starts: { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false } },
  relation: { options: RelationOptions, starts: { collectionId: "", minSelect: 0, maxSelect: 1, cascadeDelete: false } },
  json: { options: JsonOptions, starts: { maxSize: 0 } },
  password: { options: PasswordOptions, starts: { min: 0, max: 0, pattern: "", cost: 0 } },
  geoPoint: { options: null, starts: {} },
};

// Kept when a new field changes its type; a password is never shown, so it starts neither
// hidden nor presentable.
const SHARED = ["name", "hidden", "presentable", "required", "help"];
const SHARED_BY_PASSWORD = ["name", "required", "help"];

/** A new field of `type`; a relation points to `relationTarget` (a collection id) at first. */
export function blankField(type, relationTarget = "") {
  const field = { name: "", type, system: false, hidden: false, presentable: false };
  if (type !== "autodate") Object.assign(field, { required: false, help: "" });
  Object.assign(field, structuredClone(FIELD_TYPES[type].starts));
  if (type === "relation") field.collectionId = relationTarget;
  return field;
}

/** Turns a new field into one of `type` in place (so its row, and the focus in it, stay). */
export function retype(field, type, relationTarget) {
  const blank = blankField(type, relationTarget);
  const kept = type === "password" ? SHARED_BY_PASSWORD : SHARED;
  for (const key of Object.keys(field)) if (!(key in blank)) delete field[key];
  for (const [key, value] of Object.entries(blank)) {
    if (!(kept.includes(key) && key in field)) field[key] = value;
  }
}
