// Mounting an editor whose code is imported on first use: for an $effect, which returns the
// cleanup. A panel closed before the import finished mounts nothing.

/** ``mount(module)`` once ``load()`` resolves; returns a cleanup that destroys what it made. */
export function mountWhenLoaded(load, mount, failed) {
  let made;
  let mounted = true;
  load().then((module) => mounted && (made = mount(module)), failed);
  return () => {
    mounted = false;
    made?.destroy();
  };
}
