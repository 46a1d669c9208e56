// Hash routes, as PocketBase's dashboard: /_/#/collections?collection=posts, /_/#/auth/...
export const route = $state({ path: "/", query: new URLSearchParams() });

function read() {
  const [path, query = ""] = (location.hash.slice(1) || "/").split("?");
  route.path = path || "/";
  route.query = new URLSearchParams(query);
}

window.addEventListener("hashchange", read);
read();

export function go(path) {
  location.hash = "#" + path;
}
