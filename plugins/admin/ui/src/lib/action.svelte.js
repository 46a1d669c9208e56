// A form's API call: ``busy`` while it runs (one at a time), ``errors`` from its answer.
import { apiError } from "./toasts.svelte.js";

export class Action {
  busy = $state(false);
  errors = $state({});

  /** Runs ``work``; its API error is toasted and its field errors kept. True when it worked. */
  async run(work) {
    if (this.busy) return false;
    this.busy = true;
    try {
      await work();
      this.errors = {};
      return true;
    } catch (error) {
      this.errors = apiError(error);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
