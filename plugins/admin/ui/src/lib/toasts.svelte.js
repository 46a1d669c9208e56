// Short messages at the corner of the screen, and the reading of the SDK's errors.
export const toasts = $state([]);
let lastId = 0;

export function toast(message, kind = "info") {
  const id = ++lastId;
  toasts.push({ id, message, kind });
  setTimeout(() => dismiss(id), kind === "error" ? 8000 : 4000);
}

export function dismiss(id) {
  const index = toasts.findIndex((item) => item.id === id);
  if (index >= 0) toasts.splice(index, 1);
}

/** Toasts an API error's message; returns its field errors as {path: message}. */
export function apiError(error) {
  if (error?.isAbort) return {};
  toast(error?.response?.message || error?.message || String(error), "error");
  return flatten(error?.response?.data || {});
}

function flatten(data, prefix = "") {
  const out = {};
  for (const [key, value] of Object.entries(data)) {
    if (value && typeof value === "object" && !("message" in value)) {
      Object.assign(out, flatten(value, prefix + key + "."));
    } else if (value?.message) {
      out[prefix + key] = value.message;
    }
  }
  return out;
}
