// Mounting an editor whose code is imported on first use: for an $effect, which returns the
// cleanup. A panel closed before the import finished mounts nothing.

/** ``mount(module)`` once ``load()`` resolves; ``failed()`` if either throws (the caller shows a
 * plain text area). Returns a cleanup that destroys what was made. */
export function mountWhenLoaded(load, mount, failed) {
  let made;
  let mounted = true;
  load().then((module) => mounted && (made = mount(module))).catch(failed);
  return () => {
    mounted = false;
    made?.destroy();
  };
}
