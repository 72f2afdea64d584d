//! The optimizer against hand-computed truths: the reference's parameter
//! groups on the real pretraining model, PyTorch's AdamW arithmetic step by
//! step, global-norm clipping, and gradient accumulation that averages.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use ssl_pretrain::train::{
    AdamW, AdamWSettings, clip_scale, grad_norm, named_parameters, no_weight_decay,
};
use videomae::VideoMaeConfig;
use videomae::masking::{MaskRng, RunningCellMask, TubeMask};
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};

type B = Autodiff<Flex>;

fn tiny() -> VideoMaeConfig {
    VideoMaeConfig {
        image_size: 32,
        num_frames: 4,
        hidden_size: 48,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 96,
        decoder_hidden_size: 24,
        decoder_num_hidden_layers: 1,
        decoder_num_attention_heads: 2,
        decoder_intermediate_size: 48,
        ..VideoMaeConfig::small()
    }
}

#[test]
fn parameter_groups_are_the_references() {
    let config = tiny();
    let model = VideoMaePretraining::<Flex>::init(&config, &Default::default());
    let params = named_parameters(&model);
    let decay: Vec<&String> = params
        .iter()
        .filter(|(n, d)| !no_weight_decay(n, d))
        .map(|(n, _)| n)
        .collect();
    // Per transformer block: the fused qkv, the attention projection and
    // the two MLP weights (4); plus the patch embedding, encoder_to_decoder
    // and the decoder head weights. Everything else (norms, biases, q/v
    // biases, the mask token) does not decay.
    let blocks = config.num_hidden_layers + config.decoder_num_hidden_layers;
    assert_eq!(decay.len(), 4 * blocks + 3, "{decay:?}");
    assert!(
        params
            .iter()
            .any(|(n, d)| n == "mask_token" && d.len() == 3)
    );
    assert!(decay.iter().all(|n| n.ends_with("weight")), "{decay:?}");
    for (name, dims) in &params {
        if dims.len() == 1 {
            assert!(no_weight_decay(name, dims), "{name}");
        }
    }
}

/// A linear layer with the given weight `[in=2, out=1]` and bias, and the
/// gradient of `sum(y * c)` for a fixed input: dL/dW and dL/db are known.
fn linear(w: [f32; 2], b: f32) -> Linear<B> {
    let device = Default::default();
    let mut l = LinearConfig::new(2, 1).init::<B>(&device);
    l.weight = burn::module::Param::from_tensor(Tensor::from_data(
        TensorData::new(w.to_vec(), [2, 1]),
        &device,
    ));
    l.bias = Some(burn::module::Param::from_tensor(Tensor::from_data(
        TensorData::new(vec![b], [1]),
        &device,
    )));
    l
}

fn grads_of(l: &Linear<B>, x: [f32; 2], c: f32) -> GradientsParams {
    let device = Default::default();
    let x = Tensor::<B, 2>::from_data(TensorData::new(x.to_vec(), [1, 2]), &device);
    let loss = l.forward(x).mul_scalar(c).sum();
    GradientsParams::from_grads(loss.backward(), l)
}

fn values(l: &Linear<B>) -> (Vec<f64>, f64) {
    let w = l
        .weight
        .val()
        .into_data()
        .convert::<f64>()
        .into_vec::<f64>()
        .unwrap();
    let b = l
        .bias
        .as_ref()
        .unwrap()
        .val()
        .into_data()
        .convert::<f64>()
        .into_vec::<f64>()
        .unwrap()[0];
    (w, b)
}

#[test]
fn adamw_follows_pytorchs_update_with_decay_on_weights_only() {
    let s = AdamWSettings::default();
    let mut opt = AdamW::<Flex>::new(s.clone());
    let mut l = linear([0.5, -1.0], 0.25);
    let (x, c, lr) = ([2.0f32, -3.0], 1.5f32, 0.1);
    // Hand computation in f64: grads are constant, dW = c * x, db = c.
    let mut w = [0.5f64, -1.0];
    let mut b = 0.25f64;
    let g = [f64::from(c) * 2.0, f64::from(c) * -3.0, f64::from(c)];
    let (mut m, mut v) = ([0f64; 3], [0f64; 3]);
    for t in 1..=3 {
        let grads = grads_of(&l, x, c);
        l = opt.step(lr, l, grads, 1.0);
        let (bc1, bc2) = (1.0 - s.beta1.powi(t), 1.0 - s.beta2.powi(t));
        for i in 0..3 {
            m[i] = s.beta1 * m[i] + (1.0 - s.beta1) * g[i];
            v[i] = s.beta2 * v[i] + (1.0 - s.beta2) * g[i] * g[i];
        }
        let step = |i: usize| lr / bc1 * m[i] / (v[i].sqrt() / bc2.sqrt() + s.eps);
        for (i, w) in w.iter_mut().enumerate() {
            *w = *w * (1.0 - lr * s.weight_decay) - step(i);
        }
        b -= step(2); // a bias: no decay
        let (got_w, got_b) = values(&l);
        for i in 0..2 {
            assert!(
                (got_w[i] - w[i]).abs() < 1e-6,
                "step {t}: w{i} {} vs {}",
                got_w[i],
                w[i]
            );
        }
        assert!((got_b - b).abs() < 1e-6, "step {t}: b {got_b} vs {b}");
    }
    assert_eq!(opt.steps(), 3);
    // The state round-trips through plain data.
    let state = opt.state();
    assert_eq!(state.moments.len(), 2);
    let restored = AdamW::<Flex>::from_state(s, &state, &Default::default());
    assert_eq!(restored.state(), state);
}

#[test]
fn global_norm_and_clipping_match_a_hand_computed_case() {
    let l = linear([0.5, -1.0], 0.25);
    // dW = c * x = (3, -4) * 1, db = 1 * c: norm sqrt(9 + 16 + 1).
    let grads = grads_of(&l, [3.0, -4.0], 1.0);
    let norm = grad_norm(&l, &grads);
    assert!((norm - 26f64.sqrt()).abs() < 1e-6, "{norm}");
    let scale = clip_scale(norm, Some(1.0));
    assert!((scale - 1.0 / (26f64.sqrt() + 1e-6)).abs() < 1e-9);
    // Clipped AdamW's first step moves each weight by lr (Adam normalises),
    // so clipping shows in the moments: m = (1 - b1) * g * scale.
    let mut opt = AdamW::<Flex>::new(AdamWSettings::default());
    let _ = opt.step(0.1, l, grads, scale);
    let state = opt.state();
    let (m, _) = &state.moments["weight"];
    assert!((f64::from(m[0]) - 0.1 * 3.0 * scale).abs() < 1e-6, "{m:?}");
}

#[test]
fn two_half_batches_accumulate_to_one_full_batch() {
    let config = tiny();
    let device = Default::default();
    let model = VideoMaePretraining::<B>::init(&config, &device);
    let mut rng = MaskRng::seed(9);
    let tube = TubeMask::new(&config, 0.75).unwrap();
    let cell = RunningCellMask::new(&config, 0.5).unwrap();
    let enc: Vec<Vec<bool>> = (0..4).map(|_| tube.sample(&mut rng)).collect();
    let dec: Vec<Vec<bool>> = (0..4).map(|_| cell.sample(&mut rng)).collect();
    let n = config.num_frames * 3 * config.image_size * config.image_size;
    let pixels: Vec<f32> = (0..4 * n)
        .map(|i| ((i * 7919) % 255) as f32 / 127.0 - 1.0)
        .collect();
    let batch = |from: usize, to: usize| {
        let t = Tensor::<B, 1>::from_data(
            TensorData::new(pixels[from * n..to * n].to_vec(), [(to - from) * n]),
            &device,
        );
        let masks = PretrainMasks::dual(&enc[from..to], Some(&dec[from..to])).unwrap();
        let targets: usize = masks.decode().iter().map(Vec::len).sum();
        let pixels = t.reshape([
            to - from,
            config.num_frames,
            3,
            config.image_size,
            config.image_size,
        ]);
        (model.loss(&model.forward(pixels, &masks)), targets)
    };
    let (loss, total) = batch(0, 4);
    let full = GradientsParams::from_grads(loss.backward(), &model);
    let mut acc = burn::optim::GradientsAccumulator::new();
    let mut counted = 0;
    for (a, b) in [(0, 2), (2, 4)] {
        // The loss is a mean over reconstructed tokens, whose number varies
        // per clip (tube and running-cell masks overlap differently): each
        // half weighs its share of the batch's tokens.
        let (loss, targets) = batch(a, b);
        counted += targets;
        let weight = targets as f64 / total as f64;
        let g = GradientsParams::from_grads(loss.mul_scalar(weight).backward(), &model);
        acc.accumulate(&model, g);
    }
    assert_eq!(counted, total);
    let halves = acc.grads();
    let (worst, compared) = max_grad_difference(&model, &full, &halves);
    assert!(compared > 20, "only {compared} gradients compared");
    assert!(worst < 1e-6, "largest gradient difference {worst}");
}

/// The largest absolute difference between two gradient sets over every
/// parameter of `model`, and how many parameters had a gradient in both.
fn max_grad_difference(
    model: &VideoMaePretraining<B>,
    a: &GradientsParams,
    b: &GradientsParams,
) -> (f32, usize) {
    struct Diff<'a> {
        a: &'a GradientsParams,
        b: &'a GradientsParams,
        worst: f32,
        compared: usize,
    }
    impl burn::module::ModuleVisitor<B> for Diff<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
            let (Some(x), Some(y)) = (
                self.a.get::<Flex, D>(param.id),
                self.b.get::<Flex, D>(param.id),
            ) else {
                return;
            };
            // Relative to the gradient's own scale: the two sums add the
            // same terms in another order, in f32.
            let scale: f32 = x.clone().abs().max().into_scalar();
            let d: f32 = (x - y).abs().max().into_scalar();
            self.worst = self.worst.max(d / scale.max(1.0));
            self.compared += 1;
        }
    }
    let mut diff = Diff {
        a,
        b,
        worst: 0.0,
        compared: 0,
    };
    model.visit(&mut diff);
    (diff.worst, diff.compared)
}
