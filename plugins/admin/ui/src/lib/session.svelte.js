// The signed-in superuser: kept in localStorage by the SDK, refreshed on load and again
// before the token expires, cleared on sign-out or when the server refuses it.
import { getTokenPayload } from "pocketbase";
import { pb, SUPERUSERS } from "./pb.js";

const MAX_TIMEOUT = 2 ** 31 - 1;

export const session = $state({ record: null, valid: false });
let timer;

function sync() {
  session.record = pb.authStore.record;
  session.valid = pb.authStore.isValid && pb.authStore.isSuperuser;
  schedule();
}

/** The next refresh: 10 minutes before expiry, or halfway through what is left of a shorter
 * token (PocketBase's tokens carry no issue time: ``exp`` only). */
function schedule() {
  clearTimeout(timer);
  if (!session.valid) return;
  const { exp = 0 } = getTokenPayload(pb.authStore.token);
  const left = Math.max(exp - Date.now() / 1000, 0);
  const wait = Math.min((left - Math.min(600, left / 2)) * 1000, MAX_TIMEOUT);
  timer = setTimeout(refresh, wait);
}

export async function refresh() {
  if (!session.valid) return;
  try {
    await pb.collection(SUPERUSERS).authRefresh();
  } catch (error) {
    if ([401, 403, 404].includes(error?.status)) pb.authStore.clear();
  }
}

export function signOut() {
  pb.authStore.clear();
}

pb.authStore.onChange(sync);
sync();
