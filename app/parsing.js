// The parsing worker's start (app/src/parsing.rs): the page's own wasm, in a module worker, so
// the first map downloads one wasm, not two. The page's first message names its wasm-bindgen
// glue and hands over the module it compiled (app/src/loader.rs): nothing is fetched or compiled
// again. The wasm's `main` then finds itself in a worker, takes over `onmessage` and says Ready;
// the page holds every other message back until then.
//
// A start that fails is thrown again outside its promise: it reaches the page as an `error`
// event on this worker (app/src/channel.rs), which says so instead of waiting for Ready.
const fail = (err) => setTimeout(() => { throw err; });
self.onmessageerror = () => fail(new Error('the page\'s module could not be handed over'));
self.onmessage = async (e) => {
  self.onmessage = null;
  self.onmessageerror = null;
  try {
    const { glue, module } = e.data;
    const { default: init } = await import(glue);
    await init({ module_or_path: module });
  } catch (err) {
    fail(err);
  }
};
