//! Files around the models: the safetensors input of a forward pass
//! (Hugging Face's `pixel_values`, `bool_masked_pos` and the V2
//! `decoder_mask`), and safetensors output written atomically.
//!
//! Readers take at most a file's real size (a FIFO or a device is refused,
//! not read without end) and check every tensor's dtype, rank and length
//! before use, so a damaged or hostile file is a [`FileError`], never a
//! panic or an allocation the file does not back.

use std::io::Read;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// A file that cannot be read or written, or is not what it should be.
///
/// ```
/// use videomae::io::{read_file, FileError};
/// let err = read_file("no/such/file".as_ref(), 1024).unwrap_err();
/// assert!(matches!(err, FileError::Io { .. }));
/// let err = read_file(&std::env::temp_dir(), 1024).unwrap_err();
/// assert!(matches!(err, FileError::Format { message, .. } if message.contains("folder")));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The contents are not valid.
    #[error("{}: {message}", path.display())]
    Format {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A regular file opened for reading, with its size when opened. A
/// folder, a FIFO or a device is an error: a device such as
/// `/dev/urandom` never ends and a FIFO has no size to bound reads by.
/// Every reader of the crate opens files through this, so that each read
/// can be bounded by the size returned.
///
/// ```
/// use videomae::io::open_regular;
/// let path = std::env::temp_dir().join(format!("videomae-doc-open-{}.bin", std::process::id()));
/// std::fs::write(&path, [1u8, 2, 3])?;
/// let (_file, size) = open_regular(&path)?;
/// assert_eq!(size, 3);
/// assert!(open_regular(&std::env::temp_dir()).is_err()); // a folder
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), FileError> {
    let io = |source| FileError::Io {
        path: path.into(),
        source,
    };
    let format = |message: &str| FileError::Format {
        path: path.into(),
        message: message.into(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(format("is a folder, not a file"));
    }
    if !meta.is_file() {
        return Err(format("is not a regular file (a FIFO or a device?)"));
    }
    Ok((file, meta.len()))
}

/// The whole of a regular file ([`open_regular`]), at most `limit` bytes;
/// the read stops at the size the file had when opened.
///
/// ```
/// use videomae::io::{read_file, FileError};
/// let path = std::env::temp_dir().join(format!("videomae-doc-read-{}.txt", std::process::id()));
/// std::fs::write(&path, "12345")?;
/// assert_eq!(read_file(&path, 5)?, b"12345");
/// assert!(matches!(read_file(&path, 4), Err(FileError::Format { .. }))); // above the limit
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let (file, len) = open_regular(path)?;
    if len > limit {
        return Err(FileError::Format {
            path: path.into(),
            message: format!("{len} bytes, above the limit of {limit}"),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|source| FileError::Io {
            path: path.into(),
            source,
        })?;
    Ok(bytes)
}

/// The input of a forward pass, as `videomae_forward` reads it.
///
/// ```
/// use safetensors::Dtype;
/// use videomae::io::{read_inputs, write_safetensors};
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-inputs-{}.safetensors", std::process::id()));
/// let pixels: Vec<u8> = [0.5f32, -1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// write_safetensors(&path, &[
///     ("pixel_values".into(), Dtype::F32, vec![1, 2, 1, 1, 1], pixels),
///     ("bool_masked_pos".into(), Dtype::U8, vec![1, 2], vec![1, 0]),
/// ])?;
/// let inputs = read_inputs(&path)?;
/// assert_eq!(inputs.shape, [1, 2, 1, 1, 1]); // one clip of 2 frames of 1 x 1 pixel
/// assert_eq!(inputs.bool_masked_pos, Some(vec![vec![true, false]]));
/// assert_eq!(inputs.decoder_mask, None);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// `pixel_values`, row-major.
    pub pixel_values: Vec<f32>,
    /// `(batch, frames, channels, height, width)` of `pixel_values`.
    pub shape: [usize; 5],
    /// `bool_masked_pos`, one row per clip (`true` = hidden from the
    /// encoder), if present.
    pub bool_masked_pos: Option<Vec<Vec<bool>>>,
    /// `decoder_mask`, one row per clip (`true` = not reconstructed), if
    /// present.
    pub decoder_mask: Option<Vec<Vec<bool>>>,
}

/// Largest input file accepted by [`read_inputs`] (16 GiB).
pub const MAX_INPUT_BYTES: u64 = 16 << 30;

/// Reads a safetensors input: `pixel_values` f32 `(B, T, C, H, W)` and the
/// optional masks `bool_masked_pos` and `decoder_mask`, u8 or bool `(B,
/// N)` with `N >= 1` (any non-zero byte is `true`). Other tensors are
/// ignored. Whether the shapes fit a model is the model's check
/// (`try_forward`); whether values are finite is
/// [`Inputs::check_finite`].
///
/// ```
/// use safetensors::Dtype;
/// use videomae::io::{read_inputs, write_safetensors, FileError};
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-read-inputs-{}.safetensors", std::process::id()));
/// let pixels: Vec<u8> = [0.5f32, -1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// write_safetensors(&path, &[
///     ("pixel_values".into(), Dtype::F32, vec![1, 2, 1, 1, 1], pixels),
///     ("bool_masked_pos".into(), Dtype::U8, vec![1, 2], vec![1, 0]),
/// ])?;
/// assert_eq!(read_inputs(&path)?.pixel_values, [0.5, -1.0]);
/// std::fs::write(&path, b"not safetensors")?;
/// assert!(matches!(read_inputs(&path), Err(FileError::Format { .. })));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_inputs(path: &Path) -> Result<Inputs, FileError> {
    let bytes = read_file(path, MAX_INPUT_BYTES)?;
    parse_inputs(&bytes).map_err(|message| FileError::Format {
        path: path.into(),
        message,
    })
}

/// [`read_inputs`] on the bytes of a file; the error is the message
/// without the file name.
///
/// ```
/// use safetensors::Dtype;
/// use videomae::io::{parse_inputs, write_safetensors};
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-parse-inputs-{}.safetensors", std::process::id()));
/// let pixels: Vec<u8> = [0.5f32, -1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// write_safetensors(&path, &[
///     ("pixel_values".into(), Dtype::F32, vec![1, 2, 1, 1, 1], pixels),
///     ("bool_masked_pos".into(), Dtype::U8, vec![1, 2], vec![1, 0]),
/// ])?;
/// let bytes = std::fs::read(&path)?;
/// assert_eq!(parse_inputs(&bytes)?.pixel_values, [0.5, -1.0]);
/// // A valid safetensors file (8-byte header length, then `{}`) without pixels:
/// let err = parse_inputs(b"\x08\0\0\0\0\0\0\0{}      ").unwrap_err();
/// assert!(err.contains("pixel_values"), "{err}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_inputs(bytes: &[u8]) -> Result<Inputs, String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let (pixel_values, shape) = f32_tensor(&st, "pixel_values")?;
    let shape: [usize; 5] = shape
        .try_into()
        .map_err(|s| format!("pixel_values must be (B, T, C, H, W), is {s:?}"))?;
    if shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_none()
    {
        return Err(format!("pixel_values shape {shape:?} is too large"));
    }
    let batch = shape[0];
    let bool_masked_pos = bool_rows(&st, "bool_masked_pos", batch)?;
    let decoder_mask = bool_rows(&st, "decoder_mask", batch)?;
    Ok(Inputs {
        pixel_values,
        shape,
        bool_masked_pos,
        decoder_mask,
    })
}

impl Inputs {
    /// Ok when every pixel is finite.
    pub fn check_finite(&self) -> Result<(), crate::input::NonFiniteError> {
        crate::input::check_finite_values("pixel_values", &self.pixel_values)
    }
}

/// An f32 tensor of `st`: values and shape. safetensors has checked that
/// the data length is the shape's.
///
/// ```
/// use safetensors::{Dtype, SafeTensors};
/// use videomae::io::{f32_tensor, write_safetensors};
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-f32-tensor-{}.safetensors", std::process::id()));
/// let pixels: Vec<u8> = [0.5f32, -1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// write_safetensors(&path, &[
///     ("pixel_values".into(), Dtype::F32, vec![1, 2, 1, 1, 1], pixels),
///     ("bool_masked_pos".into(), Dtype::U8, vec![1, 2], vec![1, 0]),
/// ])?;
/// let bytes = std::fs::read(&path)?;
/// let st = SafeTensors::deserialize(&bytes)?;
/// assert_eq!(f32_tensor(&st, "pixel_values")?, (vec![0.5, -1.0], vec![1, 2, 1, 1, 1]));
/// let err = f32_tensor(&st, "bool_masked_pos").unwrap_err();
/// assert_eq!(err, "bool_masked_pos must be F32, is U8");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn f32_tensor(st: &SafeTensors, name: &str) -> Result<(Vec<f32>, Vec<usize>), String> {
    let t = st.tensor(name).map_err(|_| format!("no tensor {name:?}"))?;
    if t.dtype() != Dtype::F32 {
        return Err(format!("{name} must be F32, is {:?}", t.dtype()));
    }
    let v = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((v, t.shape().to_vec()))
}

/// A u8/bool `(batch, N)` tensor as one mask per row, if present.
fn bool_rows(st: &SafeTensors, name: &str, batch: usize) -> Result<Option<Vec<Vec<bool>>>, String> {
    let Ok(t) = st.tensor(name) else {
        return Ok(None);
    };
    match (t.dtype(), t.shape()) {
        (Dtype::U8 | Dtype::BOOL, &[b, n]) if n > 0 && b == batch => Ok(Some(
            t.data()
                .chunks(n)
                .map(|r| r.iter().map(|&v| v != 0).collect())
                .collect(),
        )),
        (Dtype::U8 | Dtype::BOOL, &[b, n]) if n > 0 => Err(format!(
            "{name} has {b} rows, pixel_values has {batch} clips"
        )),
        (d, s) => Err(format!(
            "{name} must be U8 (B, N) with N >= 1, is {d:?} {s:?}"
        )),
    }
}

/// Writes named tensors `(name, dtype, shape, little-endian bytes)` as a
/// safetensors file: into a sibling temporary file, then renamed over
/// `path`, so a failure never leaves a half-written file. The file gets
/// the mode `File::create` gives (`0666` less the umask), not the `0600`
/// of a temporary file. Missing parent folders are created.
///
/// ```
/// use safetensors::{Dtype, SafeTensors};
/// use videomae::io::write_safetensors;
/// let path = std::env::temp_dir()
///     .join(format!("videomae-doc-write-{}.safetensors", std::process::id()));
/// let bytes: Vec<u8> = [1.0f32, 2.0, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// write_safetensors(&path, &[("logits".into(), Dtype::F32, vec![1, 3], bytes)])?;
/// let file = std::fs::read(&path)?;
/// let st = SafeTensors::deserialize(&file)?;
/// assert_eq!(st.tensor("logits")?.shape(), [1, 3]);
/// // Bytes that do not fill the shape are refused, and nothing is written.
/// let short = vec![0u8; 4];
/// assert!(write_safetensors(&path, &[("x".into(), Dtype::F32, vec![2], short)]).is_err());
/// assert!(SafeTensors::deserialize(&std::fs::read(&path)?)?.tensor("logits").is_ok());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_safetensors(
    path: &Path,
    tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)],
) -> Result<(), FileError> {
    let format = |message: String| FileError::Format {
        path: path.into(),
        message,
    };
    let views = tensors
        .iter()
        .map(|(k, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (k.clone(), v))
                .map_err(|e| format(format!("tensor {k}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    write_atomic(path, |tmp| {
        safetensors::serialize_to_file(views, None, tmp).map_err(|e| e.to_string())
    })
}

/// Runs `write` on a temporary sibling of `path`, gives it the mode a new
/// file gets, and renames it over `path`; the temporary file is removed
/// on failure.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), FileError> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| FileError::Io { path: p, source }
    };
    let name = path.file_name().ok_or_else(|| FileError::Format {
        path: path.into(),
        message: "has no file name".into(),
    })?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // File::create applies the umask; its mode is the one to keep, as
    // writers that replace the file (safetensors renames a 0600 temporary
    // file over it) do not keep it.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    // Errors name the file asked for, not the temporary one.
    let perms = std::fs::File::create(&tmp)
        .and_then(|f| f.metadata())
        .map_err(io(path))?
        .permissions();
    let result = write(&tmp)
        .map_err(|message| FileError::Format {
            path: path.into(),
            message,
        })
        .and_then(|()| std::fs::set_permissions(&tmp, perms).map_err(io(path)))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(io(path)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
