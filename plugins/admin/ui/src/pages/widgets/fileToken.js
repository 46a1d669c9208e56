// The superuser's file token (POST /api/files/token), which protected files ask for as
// `?token=`: one for every widget, fetched again once less than a minute of it is left.
import { getTokenPayload } from "pocketbase";
import { pb } from "../../lib/pb.js";

const MARGIN = 60; // seconds
let pending = null;
pb.authStore.onChange(() => (pending = null)); // another superuser, another token

/** A token with more than a minute left, and the milliseconds until it should be replaced. */
export async function fileToken() {
  if (!pending || secondsLeft(await pending) <= MARGIN) {
    pending = pb.files.getToken();
    pending.catch(() => (pending = null));
  }
  const token = await pending;
  return { token, renewIn: Math.max(secondsLeft(token) - MARGIN, 5) * 1000 };
}

function secondsLeft(token) {
  return getTokenPayload(token).exp - Date.now() / 1000;
}
