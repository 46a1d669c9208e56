// The one PocketBase client of the dashboard: the API lives beside /_/ (a dashboard at
// https://host/prefix/_/ talks to https://host/prefix/), the session in localStorage.
import PocketBase, { LocalAuthStore } from "pocketbase";

const base = new URL("..", location.href.split("#")[0]).href.replace(/\/$/, "");

export const pb = new PocketBase(base, new LocalAuthStore("pbk_superuser_auth"));
pb.autoCancellation(false);

export const SUPERUSERS = "_superusers";
