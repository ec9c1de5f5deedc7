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

#[test]
fn inference_mode_guard_is_scoped_to_its_lifetime() {
	noderr_ml::runtime::init();
	use noderr_ml::runtime::InferenceMode;
	assert!(!InferenceMode::is_enabled());
	let w = Tensor::ones([2, 2], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
	assert!(w.matmul(&w).requires_grad());
	{
		let _guard = InferenceMode::enter();
		assert!(InferenceMode::is_enabled());
		let y = w.matmul(&w);
		assert!(!y.requires_grad(), "no autograd graph inside inference mode");
		assert!(y.is_inference());
	}
	assert!(!InferenceMode::is_enabled());
}
