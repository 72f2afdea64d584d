//! Checks at the models' public boundary: the shapes a caller hands a
//! model against the model's config, and finiteness of values.
//!
//! Burn checks shapes deep inside its kernels, with a panic (or, for a
//! batch of 0, a crash in the matrix product), so the models' `try_forward`
//! entry points check them first and return an [`InputError`]. Values are
//! not checked there (that would cost a pass over every pixel on the
//! device): [`check_finite`] and [`check_finite_values`] are for callers
//! that must not report a NaN as a result, such as `videomae_forward`.

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

/// Input that does not fit the model.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::{input::InputError, model::VideoMaeClassifier, VideoMaeConfig};
/// // A tiny ViT, so that the example runs in milliseconds on the CPU.
/// let config = VideoMaeConfig { image_size: 32, num_frames: 4, hidden_size: 48,
///     num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 96,
///     ..VideoMaeConfig::small() };
/// let device = Default::default();
/// let model = VideoMaeClassifier::<Flex>::init(&config, &device);
/// let empty = Tensor::zeros([0, 4, 3, 32, 32], &device);
/// assert_eq!(model.try_forward(empty).unwrap_err(), InputError::EmptyBatch);
/// let gray = Tensor::zeros([1, 4, 1, 32, 32], &device);
/// assert!(matches!(model.try_forward(gray), Err(InputError::PixelShape { channels: 3, .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A batch of no clips.
    #[error("empty batch: pixel_values has batch size 0, a forward pass needs at least one clip")]
    EmptyBatch,
    /// Pixels whose frames, channels or size differ from the model's.
    #[error(
        "pixel_values has shape {found:?}, this model takes (batch, {frames}, {channels}, {size}, {size})"
    )]
    PixelShape {
        /// The shape given, `(batch, frames, channels, height, width)`.
        found: [usize; 5],
        /// The model's frames per clip.
        frames: usize,
        /// The model's channels.
        channels: usize,
        /// The model's height and width.
        size: usize,
    },
    /// Masks for another number of clips than the pixels hold.
    #[error("masks cover {found} clips, pixel_values has {batch}")]
    MaskBatch {
        /// Clips the masks cover.
        found: usize,
        /// Clips of the pixels.
        batch: usize,
    },
    /// Masks over another number of tokens than the model has.
    #[error("masks have {found} tokens per clip, this model has {tokens}")]
    MaskTokens {
        /// Tokens per mask.
        found: usize,
        /// The model's tokens per clip.
        tokens: usize,
    },
    /// Features of another width than an encoder's head takes, or none.
    #[error("features have shape {found:?}, this head takes (batch >= 1, {width})")]
    FeatureShape {
        /// The shape given, `(batch, width)`.
        found: [usize; 2],
        /// The encoder's feature width.
        width: usize,
    },
    /// Logits asked of an encoder without a classifier head.
    #[error("this encoder has no classifier head (it was loaded from a pretraining checkpoint)")]
    NoHead,
    /// The pretraining model's target needs RGB input.
    #[error("pretraining needs 3 channels (RGB, ImageNet statistics), the model has {0}")]
    Channels(usize),
}

/// Checks pixel dimensions `(batch, frames, channels, height, width)`
/// against a model's frames, channels and (square) size.
pub(crate) fn check_pixels(
    found: [usize; 5],
    frames: usize,
    channels: usize,
    size: usize,
) -> Result<(), InputError> {
    if found[0] == 0 {
        return Err(InputError::EmptyBatch);
    }
    if found[1..] != [frames, channels, size, size] {
        return Err(InputError::PixelShape {
            found,
            frames,
            channels,
            size,
        });
    }
    Ok(())
}

/// Values that are NaN or infinite where finite ones were expected.
///
/// ```
/// use videomae::input::{check_finite_values, NonFiniteError};
/// let err = check_finite_values("loss", &[f32::NAN]).unwrap_err();
/// assert_eq!(err, NonFiniteError { name: "loss".into(), count: 1, total: 1 });
/// assert_eq!(err.to_string(), "loss: 1 of 1 values are not finite (NaN or infinite)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {count} of {total} values are not finite (NaN or infinite)")]
pub struct NonFiniteError {
    /// What holds the values (an input or output name).
    pub name: String,
    /// How many are NaN or infinite.
    pub count: usize,
    /// How many values there are.
    pub total: usize,
}

/// Ok when every value is finite; otherwise names `name` and counts the
/// bad values.
///
/// ```
/// use videomae::input::check_finite_values;
/// assert!(check_finite_values("logits", &[1.0, 2.0]).is_ok());
/// let e = check_finite_values("logits", &[1.0, f32::NAN, f32::INFINITY]).unwrap_err();
/// assert_eq!((e.count, e.total), (2, 3));
/// ```
pub fn check_finite_values(name: &str, values: &[f32]) -> Result<(), NonFiniteError> {
    let count = values.iter().filter(|v| !v.is_finite()).count();
    if count == 0 {
        Ok(())
    } else {
        Err(NonFiniteError {
            name: name.to_owned(),
            count,
            total: values.len(),
        })
    }
}

/// [`check_finite_values`] on a tensor, counted on its device (one scalar
/// comes back): for losses and outputs in training and evaluation code.
///
/// ```
/// use videomae::burn::{backend::Flex, tensor::Tensor};
/// use videomae::input::check_finite;
/// let device = Default::default();
/// let fine = Tensor::<Flex, 1>::from_floats([1.0, 2.0], &device);
/// assert!(check_finite("logits", &fine).is_ok());
/// let bad = Tensor::<Flex, 2>::from_floats([[1.0, f32::NAN], [f32::INFINITY, 0.0]], &device);
/// assert_eq!(check_finite("logits", &bad).unwrap_err().count, 2);
/// ```
pub fn check_finite<B: Backend, const D: usize>(
    name: &str,
    tensor: &Tensor<B, D>,
) -> Result<(), NonFiniteError> {
    let total = tensor.shape().num_elements();
    if total == 0 {
        return Ok(());
    }
    let count: i64 = tensor
        .clone()
        .is_finite()
        .bool_not()
        .int()
        .sum()
        .into_scalar()
        .elem();
    if count == 0 {
        Ok(())
    } else {
        Err(NonFiniteError {
            name: name.to_owned(),
            count: count as usize,
            total,
        })
    }
}
