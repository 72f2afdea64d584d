//! One pretraining optimizer step on the CPU backend, as the `run` loop
//! takes it: forward, norm-pixel loss, backward, the global gradient norm,
//! and tubelet's AdamW with the reference's parameter groups. Same shapes
//! as `videomae`'s `videomae_step` bench (ViT-S/16 at 16 x 224, batch 2, 90%
//! tube masking, every masked token decoded as transformers does; and the
//! tiny test config), so `tools/bench_videomae_peer.py` (transformers +
//! torch AdamW) is the peer: `bash tools/bench_pretrain_step.sh`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ssl_pretrain::burn::backend::{Autodiff, Flex};
use ssl_pretrain::burn::optim::GradientsParams;
use ssl_pretrain::burn::tensor::backend::AutodiffBackend;
use ssl_pretrain::burn::tensor::{Distribution, ElementConversion, Tensor};
use ssl_pretrain::train::{AdamW, AdamWSettings, grad_norm};
use videomae::VideoMaeConfig;
use videomae::masking::{MaskRng, TubeMask};
use videomae::pretrain::{PretrainMasks, VideoMaePretraining};

const BATCH: usize = 2;

fn configs() -> [(&'static str, VideoMaeConfig); 2] {
    let small = VideoMaeConfig {
        use_mean_pooling: false,
        ..VideoMaeConfig::small()
    };
    let tiny = VideoMaeConfig {
        image_size: 32,
        num_frames: 4,
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        intermediate_size: 64,
        decoder_hidden_size: 16,
        decoder_num_hidden_layers: 2,
        decoder_num_attention_heads: 2,
        decoder_intermediate_size: 32,
        use_mean_pooling: false,
        ..VideoMaeConfig::default()
    };
    [("vit_s_16x224", small), ("tiny_4x32", tiny)]
}

fn bench_backend<AB: AutodiffBackend>(c: &mut Criterion, backend: &str, device: AB::Device) {
    let mut group = c.benchmark_group(format!("pretrain_step_{backend}"));
    group.sample_size(10).warm_up_time(Duration::from_secs(2));
    for (name, config) in configs() {
        let s = config.image_size;
        let pixels = Tensor::<AB, 5>::random(
            [BATCH, config.num_frames, 3, s, s],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let ratio = if config.grid_size() >= 14 { 0.9 } else { 0.75 };
        let tube = TubeMask::new(&config, ratio).expect("mask");
        let mut rng = MaskRng::seed(0);
        let enc: Vec<Vec<bool>> = (0..BATCH).map(|_| tube.sample(&mut rng)).collect();
        let masks = PretrainMasks::dual(&enc, None).expect("masks");
        let mut model = Some(VideoMaePretraining::<AB>::init(&config, &device));
        let mut optimizer = AdamW::<AB::InnerBackend>::new(AdamWSettings::default());
        group.bench_function(format!("{name}/optimizer_step"), |b| {
            b.iter(|| {
                let m = model.take().expect("the model");
                let loss = m.loss(&m.forward(pixels.clone(), &masks));
                let value: f64 = loss.clone().into_scalar().elem();
                let grads = GradientsParams::from_grads(loss.backward(), &m);
                let norm = grad_norm(&m, &grads);
                assert!(value.is_finite() && norm.is_finite());
                model = Some(optimizer.step(1e-4, m, grads, 1.0));
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_backend::<Autodiff<Flex>>(c, "cpu", Default::default());
    #[cfg(feature = "cuda")]
    bench_backend::<Autodiff<ssl_pretrain::burn::backend::Cuda>>(c, "cuda", Default::default());
}

criterion_group!(benches, bench);
criterion_main!(benches);
