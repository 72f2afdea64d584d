//! Forward, and forward + backward, of the VideoMAE pretraining model
//! (encoder + decoder, 90% tube masking, every masked token decoded as in
//! transformers' `VideoMAEForPreTraining`, norm-pixel loss) on the CPU
//! backend: ViT-S at 16 x 224 x 224, batch 2, and the tiny test config.
//! `tools/bench_videomae.sh` runs this and the PyTorch peer
//! (`tools/bench_videomae_peer.py`) with the same shapes and threads.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use videomae::VideoMaeConfig;
use videomae::burn::backend::{Autodiff, Flex};
use videomae::burn::tensor::backend::{AutodiffBackend, Backend};
use videomae::burn::tensor::{Distribution, Tensor};
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

fn inputs<B: Backend>(
    config: &VideoMaeConfig,
    device: &B::Device,
) -> (Tensor<B, 5>, PretrainMasks) {
    let s = config.image_size;
    let pixels = Tensor::random(
        [BATCH, config.num_frames, 3, s, s],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    // The tiny grid (2 x 2) cannot mask 90%; it masks 3 of 4 cells.
    let ratio = if config.grid_size() >= 14 { 0.9 } else { 0.75 };
    let tube = TubeMask::new(config, ratio).expect("mask");
    let mut rng = MaskRng::seed(0);
    let enc: Vec<Vec<bool>> = (0..BATCH).map(|_| tube.sample(&mut rng)).collect();
    (pixels, PretrainMasks::dual(&enc, None).expect("masks"))
}

/// Forward and forward + backward of every config on backend `B`.
fn bench_backend<B: AutodiffBackend>(c: &mut Criterion, backend: &str, device: B::Device) {
    let mut group = c.benchmark_group(format!("videomae_pretrain_{backend}"));
    group.sample_size(10).warm_up_time(Duration::from_secs(2));
    for (name, config) in configs() {
        let model = VideoMaePretraining::<B::InnerBackend>::init(&config, &device);
        let (pixels, masks) = inputs::<B::InnerBackend>(&config, &device);
        group.bench_function(format!("{name}/forward"), |b| {
            b.iter(|| {
                let out = model.forward(pixels.clone(), &masks);
                // Reading the loss back waits for the device.
                black_box(model.loss(&out).into_scalar())
            })
        });
        let model = VideoMaePretraining::<B>::init(&config, &device);
        let (pixels, masks) = inputs::<B>(&config, &device);
        group.bench_function(format!("{name}/forward_backward"), |b| {
            b.iter(|| {
                let out = model.forward(pixels.clone(), &masks);
                let grads = model.loss(&out).backward();
                B::sync(&device).expect("device sync");
                black_box(grads)
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_backend::<Autodiff<Flex>>(c, "cpu", Default::default());
    #[cfg(feature = "cuda")]
    bench_backend::<Autodiff<videomae::burn::backend::Cuda>>(c, "cuda", Default::default());
}

criterion_group!(benches, bench);
criterion_main!(benches);
