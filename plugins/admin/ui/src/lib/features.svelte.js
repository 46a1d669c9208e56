// The pbk plugins the server runs (GET /api/admin/features, superusers only), so only the
// pages whose API is there are offered.
import { pb } from "./pb.js";

export const features = $state({ plugins: [] });

export async function loadFeatures() {
  try {
    features.plugins = (await pb.send("/api/admin/features", { method: "GET" })).plugins;
  } catch {
    features.plugins = [];
  }
}
