// The collections, loaded once after sign-in and again after every schema change.
import { pb } from "./pb.js";
import { apiError } from "./toasts.svelte.js";

export const schema = $state({ list: [], loaded: false });

export async function loadCollections() {
  try {
    schema.list = await pb.collections.getFullList({ sort: "name" });
    schema.loaded = true;
  } catch (error) {
    apiError(error);
  }
}

export function findCollection(idOrName) {
  return schema.list.find((item) => item.id === idOrName || item.name === idOrName);
}
