//! libtorch, assembled from the PyPI wheels by scripts/setup-libtorch.sh, links and runs.

use tch::{Kind, Tensor};

#[test]
fn libtorch_computes_on_one_thread() {
	noderr_ml::runtime::init();
	assert_eq!(noderr_ml::runtime::intra_op_threads(), 1);
	let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
	let b = a.matmul(&a.transpose(0, 1));
	let values: Vec<f32> = Vec::<f32>::try_from(b.flatten(0, 1)).unwrap();
	assert_eq!(values, vec![5.0, 11.0, 11.0, 25.0]);
	assert_eq!(b.kind(), Kind::Float);
	let _guard = tch::no_grad_guard();
	assert!(!Tensor::ones([3], (Kind::Float, tch::Device::Cpu)).requires_grad());
}
