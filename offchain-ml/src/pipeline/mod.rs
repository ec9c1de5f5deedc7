//! Pure-Rust input pipelines that turn a request into a model's input tensor, with no libtorch:
//! the GAF images of the regime classifier, the sentiment model's tokenizer and lexicon features
//! (with VADER's intensity rules). The 94-feature
//! pipeline over OHLCV bars is [`crate::features`]; the int8 quantisation of the sentiment
//! encoder is [`crate::models::int8`].

pub mod gaf_image;
pub mod intensity;
pub mod lexicon;
pub mod tokenizer;
