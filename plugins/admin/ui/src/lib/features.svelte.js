// The pbk plugins the server runs (/_/features.json), so only the pages whose API is there
// are offered.
export const features = $state({ plugins: [] });

export async function loadFeatures() {
  try {
    const answer = await fetch("./features.json", { cache: "no-cache" });
    if (answer.ok) features.plugins = (await answer.json()).plugins;
  } catch {
    features.plugins = [];
  }
}
