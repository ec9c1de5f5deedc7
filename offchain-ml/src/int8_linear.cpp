// Exact int8 matrix products for Rust, on the FBGEMM library inside libtorch (tch has no binding
// for it). Rust quantises (src/models/int8.rs); this file only packs a weight matrix once and
// multiplies unsigned 8-bit activations by it with 32-bit integer sums, returned unscaled.
//
// The sums are exact on every instruction set FBGEMM has: its AVX2 kernels add pairs of 8-bit
// products in saturating 16-bit lanes, so weights are held to 7 bits (|w| <= 63), which keeps
// every pair below 2^15 (2 * 255 * 63 = 32130); its AVX-512 VNNI kernels add in 32 bits.
//
// No C++ exception crosses into Rust: each entry point catches them and copies the message into
// the caller's buffer.
#include <fbgemm/Fbgemm.h>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace {

using Packed = fbgemm::PackBMatrix<int8_t, int32_t>;

void copy_error(const char* what, char* err, size_t len) {
	if (len > 0) {
		std::snprintf(err, len, "%s", what);
	}
}

} // namespace

// Packs the n x k row-major int8 matrix `w` (one row per output) as FBGEMM's B operand (k x n).
extern "C" void* noderr_int8_pack(
	const int8_t* w, int32_t n, int32_t k, char* err, size_t err_len) {
	try {
		if (!fbgemm::fbgemmSupportedCPU()) {
			throw std::runtime_error("this processor lacks the AVX2 instructions int8 inference needs");
		}
		return new Packed(fbgemm::matrix_op_t::Transpose, k, n, w, k, nullptr, 1);
	} catch (const std::exception& e) {
		copy_error(e.what(), err, err_len);
		return nullptr;
	}
}

// c (m x n, row-major) = a (m x k, row-major, unsigned) times the packed matrix, exact int32 sums.
extern "C" int noderr_int8_gemm(const void* packed, const uint8_t* a, int32_t m, int32_t k,
	int32_t n, int32_t* c, char* err, size_t err_len) {
	try {
		auto* b = static_cast<Packed*>(const_cast<void*>(packed));
		fbgemm::PackAMatrix<uint8_t, int32_t> pa(
			fbgemm::matrix_op_t::NoTranspose, m, k, a, k, nullptr, 1);
		fbgemm::DoNothing<int32_t, int32_t> nothing;
		fbgemm::memCopy<int32_t, int32_t> out(nothing);
		fbgemm::fbgemmPacked(pa, *b, c, c, n, out, 0, 1);
		return 0;
	} catch (const std::exception& e) {
		copy_error(e.what(), err, err_len);
		return -1;
	}
}

extern "C" void noderr_int8_free(void* packed) {
	delete static_cast<Packed*>(packed);
}
