//! AdamW with the reference's two parameter groups, PyTorch's update rule,
//! and optimizer state kept by parameter name (so a checkpoint restores it
//! into a freshly built model, whose Burn parameter ids are new).
//!
//! VideoMAE V2's `optim_factory.get_parameter_groups`: a parameter gets no
//! weight decay when it is 1-D (norm weights and biases, q/v biases), its
//! name ends in `.bias`, or it is one of the model's `no_weight_decay()`
//! names (`pos_embed`, `cls_token`, `mask_token`; tubelet's position tables
//! are fixed sinusoids, not parameters). Everything else decays at 0.05.
//!
//! Burn 0.21's optimizers have no parameter groups, clip gradients per
//! tensor rather than by the global norm, and key their state by parameter
//! id; this optimizer does the reference's arithmetic directly:
//!
//! ```text
//! g  = grad * clip_scale
//! p  = p * (1 - lr * wd)                      (decoupled decay, decay group only)
//! m  = b1 * m + (1 - b1) * g
//! v  = b2 * v + (1 - b2) * g^2
//! p  = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//! ```

use std::collections::{BTreeMap, HashMap};

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// AdamW settings. Defaults are VideoMAE V2 pretraining's.
///
/// ```
/// use ssl_pretrain::train::AdamWSettings;
/// let s = AdamWSettings::default();
/// assert_eq!((s.beta1, s.beta2, s.eps, s.weight_decay), (0.9, 0.95, 1e-8, 0.05));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamWSettings {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay (0.95 in VideoMAE's scripts; PyTorch's default
    /// is 0.999).
    pub beta2: f64,
    /// Added to the denominator (1e-8; Burn's default is 1e-5).
    pub eps: f64,
    /// Decoupled weight decay of the decay group.
    pub weight_decay: f64,
}

impl Default for AdamWSettings {
    fn default() -> Self {
        AdamWSettings {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.05,
        }
    }
}

/// Names the reference's `no_weight_decay()` lists (matched on the last
/// path component).
pub const NO_DECAY_NAMES: &[&str] = &["pos_embed", "cls_token", "mask_token"];

/// True when the parameter `name` of shape `dims` is in the no-decay group.
///
/// ```
/// use ssl_pretrain::train::no_weight_decay;
/// assert!(no_weight_decay("encoder.layers.0.norm1.gamma", &[384]));
/// assert!(no_weight_decay("decoder.head.bias", &[1536]));
/// assert!(no_weight_decay("mask_token", &[1, 1, 192]));
/// assert!(!no_weight_decay("encoder.layers.0.mlp.fc1.weight", &[384, 1536]));
/// ```
pub fn no_weight_decay(name: &str, dims: &[usize]) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    dims.len() <= 1 || name.ends_with(".bias") || NO_DECAY_NAMES.contains(&last)
}

/// Every float parameter of `module` with its dotted path and shape, in
/// visiting order.
///
/// ```
/// use burn::backend::Flex;
/// use burn::nn::LinearConfig;
/// use ssl_pretrain::train::named_parameters;
/// let linear = LinearConfig::new(3, 2).init::<Flex>(&Default::default());
/// let names: Vec<String> = named_parameters(&linear).into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// ```
pub fn named_parameters<B: Backend, M: burn::module::Module<B>>(
    module: &M,
) -> Vec<(String, Vec<usize>)> {
    struct Names {
        path: Vec<String>,
        out: Vec<(String, Vec<usize>)>,
    }
    impl<B: Backend> ModuleVisitor<B> for Names {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.out
                .push((self.path.join("."), param.val().dims().to_vec()));
        }
    }
    let mut names = Names {
        path: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut names);
    names.out
}

/// First and second moments of one parameter, flattened.
#[derive(Debug, Clone)]
struct Moments<B: Backend> {
    m: Tensor<B, 1>,
    v: Tensor<B, 1>,
}

/// The optimizer: settings, step count and per-parameter moments.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use ssl_pretrain::train::{AdamW, AdamWSettings, clip_scale, grad_norm};
/// type B = Autodiff<Flex>;
/// let device = Default::default();
/// let layer = LinearConfig::new(4, 2).init::<B>(&device);
/// let loss = layer.forward(Tensor::<B, 2>::ones([3, 4], &device)).sum();
/// let grads = GradientsParams::from_grads(loss.backward(), &layer);
/// let scale = clip_scale(grad_norm(&layer, &grads), Some(1.0)); // global-norm clipping
/// let mut opt = AdamW::<Flex>::new(AdamWSettings::default());
/// let layer = opt.step(1e-3, layer, grads, scale);
/// assert_eq!((opt.steps(), opt.state().moments.len()), (1, 2)); // weight and bias
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
pub struct AdamW<B: Backend> {
    settings: AdamWSettings,
    steps: u64,
    moments: HashMap<String, Moments<B>>,
}

/// Optimizer state as plain data (what a checkpoint stores): step count and
/// `(shape, values)` of each parameter's moments by name.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use ssl_pretrain::train::{AdamW, AdamWSettings, clip_scale, grad_norm};
/// type B = Autodiff<Flex>;
/// let device = Default::default();
/// let layer = LinearConfig::new(4, 2).init::<B>(&device);
/// let loss = layer.forward(Tensor::<B, 2>::ones([3, 4], &device)).sum();
/// let grads = GradientsParams::from_grads(loss.backward(), &layer);
/// let scale = clip_scale(grad_norm(&layer, &grads), Some(1.0)); // global-norm clipping
/// let mut opt = AdamW::<Flex>::new(AdamWSettings::default());
/// let layer = opt.step(1e-3, layer, grads, scale);
/// assert_eq!((opt.steps(), opt.state().moments.len()), (1, 2)); // weight and bias
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdamWState {
    /// Steps taken.
    pub steps: u64,
    /// `name -> (first moment, second moment)`, flattened values.
    pub moments: BTreeMap<String, (Vec<f32>, Vec<f32>)>,
}

impl<B: Backend> AdamW<B> {
    /// A fresh optimizer.
    pub fn new(settings: AdamWSettings) -> Self {
        AdamW {
            settings,
            steps: 0,
            moments: HashMap::new(),
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The settings.
    pub fn settings(&self) -> &AdamWSettings {
        &self.settings
    }

    /// The state as plain data.
    pub fn state(&self) -> AdamWState {
        let values = |t: &Tensor<B, 1>| {
            t.to_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .unwrap_or_default()
        };
        AdamWState {
            steps: self.steps,
            moments: self
                .moments
                .iter()
                .map(|(k, mo)| (k.clone(), (values(&mo.m), values(&mo.v))))
                .collect(),
        }
    }

    /// An optimizer restored from `state` on `device`.
    pub fn from_state(settings: AdamWSettings, state: &AdamWState, device: &B::Device) -> Self {
        let tensor =
            |v: &[f32]| Tensor::<B, 1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        AdamW {
            settings,
            steps: state.steps,
            moments: state
                .moments
                .iter()
                .map(|(k, (m, v))| {
                    (
                        k.clone(),
                        Moments {
                            m: tensor(m),
                            v: tensor(v),
                        },
                    )
                })
                .collect(),
        }
    }

    /// One step at learning rate `lr`: every parameter of `module` with a
    /// gradient in `grads` is updated (gradients multiplied by
    /// `grad_scale` first, 1.0 for none: see [`clip_scale`](super::clip_scale)).
    pub fn step<AB, M>(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
        grad_scale: f64,
    ) -> M
    where
        AB: AutodiffBackend<InnerBackend = B>,
        M: AutodiffModule<AB>,
    {
        self.steps += 1;
        let t = self.steps as i32;
        let s = &self.settings;
        let mut mapper = StepMapper::<AB> {
            path: Vec::new(),
            grads: &mut grads,
            moments: &mut self.moments,
            lr,
            weight_decay: s.weight_decay,
            beta1: s.beta1,
            beta2: s.beta2,
            eps: s.eps,
            bias1: 1.0 - s.beta1.powi(t),
            bias2_sqrt: (1.0 - s.beta2.powi(t)).sqrt(),
            grad_scale,
        };
        module.map(&mut mapper)
    }
}

struct StepMapper<'a, AB: AutodiffBackend> {
    path: Vec<String>,
    grads: &'a mut GradientsParams,
    moments: &'a mut HashMap<String, Moments<AB::InnerBackend>>,
    lr: f64,
    weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    bias1: f64,
    bias2_sqrt: f64,
    grad_scale: f64,
}

impl<AB: AutodiffBackend> ModuleMapper<AB> for StepMapper<'_, AB> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<AB, D>>) -> Param<Tensor<AB, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<AB::InnerBackend, D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let name = self.path.join(".");
        let require_grad = tensor.is_require_grad();
        let p = tensor.inner();
        let dims = p.dims();
        let n: usize = dims.iter().product();
        let g: Tensor<AB::InnerBackend, 1> = grad.reshape([n]).mul_scalar(self.grad_scale);
        let device = p.device();
        let moments = self.moments.remove(&name).unwrap_or_else(|| Moments {
            m: Tensor::zeros([n], &device),
            v: Tensor::zeros([n], &device),
        });
        let m = moments.m.mul_scalar(self.beta1) + g.clone().mul_scalar(1.0 - self.beta1);
        let v = moments.v.mul_scalar(self.beta2) + g.powi_scalar(2).mul_scalar(1.0 - self.beta2);
        let decay = if no_weight_decay(&name, &dims) {
            0.0
        } else {
            self.weight_decay
        };
        let p = p.reshape([n]).mul_scalar(1.0 - self.lr * decay);
        let denom = v
            .clone()
            .sqrt()
            .div_scalar(self.bias2_sqrt)
            .add_scalar(self.eps);
        let update = m.clone().div(denom).mul_scalar(self.lr / self.bias1);
        let p: Tensor<AB::InnerBackend, D> = (p - update).reshape(dims);
        self.moments.insert(name, Moments { m, v });
        let mut tensor = Tensor::from_inner(p);
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// The global L2 norm of all gradients of `module` in `grads` (PyTorch's
/// `clip_grad_norm_` norm over every parameter).
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use ssl_pretrain::train::{AdamW, AdamWSettings, clip_scale, grad_norm};
/// type B = Autodiff<Flex>;
/// let device = Default::default();
/// let layer = LinearConfig::new(4, 2).init::<B>(&device);
/// let loss = layer.forward(Tensor::<B, 2>::ones([3, 4], &device)).sum();
/// let grads = GradientsParams::from_grads(loss.backward(), &layer);
/// let scale = clip_scale(grad_norm(&layer, &grads), Some(1.0)); // global-norm clipping
/// let mut opt = AdamW::<Flex>::new(AdamWSettings::default());
/// let layer = opt.step(1e-3, layer, grads, scale);
/// assert_eq!((opt.steps(), opt.state().moments.len()), (1, 2)); // weight and bias
/// # let _ = layer;
/// ```
pub fn grad_norm<AB: AutodiffBackend, M: AutodiffModule<AB>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        sum: f64,
    }
    impl<AB: AutodiffBackend> ModuleVisitor<AB> for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<AB, D>>) {
            let id: ParamId = param.id;
            if let Some(g) = self.grads.get::<AB::InnerBackend, D>(id) {
                let s: f64 = g.powi_scalar(2).sum().into_scalar().elem();
                self.sum += s;
            }
        }
    }
    let mut norm = Norm { grads, sum: 0.0 };
    module.visit(&mut norm);
    norm.sum.sqrt()
}

/// The factor PyTorch's `clip_grad_norm_(max_norm)` multiplies every
/// gradient by: `max_norm / (norm + 1e-6)` when that is below 1, else 1.
///
/// ```
/// use ssl_pretrain::train::clip_scale;
/// assert_eq!(clip_scale(5.0, None), 1.0);
/// assert_eq!(clip_scale(0.01, Some(0.02)), 1.0);
/// assert!((clip_scale(5.0, Some(1.0)) - 1.0 / (5.0 + 1e-6)).abs() < 1e-15);
/// ```
pub fn clip_scale(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(max) => {
            let coef = max / (norm + 1e-6);
            if coef < 1.0 { coef } else { 1.0 }
        }
        None => 1.0,
    }
}
