// libtorch's InferenceMode guard for Rust: tch has no binding for it. The guard is
// thread-local state; create and destroy it on the same thread.
#include <c10/core/InferenceMode.h>

extern "C" void* noderr_inference_mode_enter() {
	return new c10::InferenceMode(true);
}

extern "C" void noderr_inference_mode_exit(void* guard) {
	delete static_cast<c10::InferenceMode*>(guard);
}

extern "C" int noderr_inference_mode_enabled() {
	return c10::InferenceMode::is_enabled() ? 1 : 0;
}
