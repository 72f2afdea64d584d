//! Unit tests of the model's building blocks.
use super::*;
use burn::backend::{Autodiff, Flex};

fn block<B: Backend>(rate: f64, device: &B::Device) -> Block<B> {
    B::seed(device, 3);
    Block::new(8, 2, 16, 1e-6, true, rate, device)
}

fn rows<B: Backend>(t: Tensor<B, 3>) -> Vec<Vec<u32>> {
    let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().unwrap();
    v.chunks(8 * 4)
        .map(|r| r.iter().map(|x| x.to_bits()).collect())
        .collect()
}

#[test]
fn drop_path_acts_per_sample_only_in_training() {
    let device = Default::default();
    let x = Tensor::<Flex, 3>::random([1, 4, 8], Distribution::Default, &device).repeat_dim(0, 64);
    // Inference (no autodiff): the rate changes nothing.
    // One set of weights for both rates: tests run in parallel and share
    // the backend's RNG, and Burn draws parameters lazily on first use,
    // so the clone is taken after a forward pass has drawn them.
    let keep = block::<Flex>(0.0, &device);
    let plain = rows(keep.forward(x.clone(), None));
    let mut with_rate = keep.clone();
    with_rate.drop_path = 0.5;
    let infer = rows(with_rate.forward(x.clone(), None));
    assert_eq!(plain, infer);
    assert!(plain.iter().all(|r| r == &plain[0]));
    // Training: each sample keeps or drops each branch as a whole, so
    // there are at most 4 distinct outputs, one of them the input itself
    // (both dropped: 0.75^64 odds of never happening).
    let train = block::<Autodiff<Flex>>(0.5, &device);
    let xa = Tensor::<Autodiff<Flex>, 3>::from_data(x.clone().into_data(), &device);
    let out = rows(train.forward(xa, None));
    let mut distinct = out.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        (2..=4).contains(&distinct.len()),
        "{} distinct",
        distinct.len()
    );
    let input = rows(x.narrow(0, 0, 1)).remove(0);
    assert!(out.contains(&input), "no sample dropped both branches");
}

/// The fused attention op against scores, softmax and weighted sum
/// written out, on a sequence long enough for the CPU backend's flash
/// kernel (520^2 scores), with padding keys hidden.
#[test]
fn fused_attention_equals_the_written_out_formula() {
    use burn::tensor::activation::softmax;
    let device = Default::default();
    Flex::seed(&device, 5);
    let (b, n, d, h) = (2, 520, 16, 2);
    let mut attn = Attention::<Flex>::new(d, h, true, &device);
    attn.q_bias = Some(Param::from_tensor(Tensor::random(
        [d],
        Distribution::Default,
        &device,
    )));
    attn.v_bias = Some(Param::from_tensor(Tensor::random(
        [d],
        Distribution::Default,
        &device,
    )));
    let x = Tensor::<Flex, 3>::random([b, n, d], Distribution::Normal(0.0, 1.0), &device);
    // Clip 1 hides its last 20 keys.
    let mut hidden = vec![false; b * n];
    hidden[2 * n - 20..].iter_mut().for_each(|m| *m = true);
    let mask = Tensor::<Flex, 1, Bool>::from_data(TensorData::new(hidden, [b * n]), &device)
        .reshape([b, 1, 1, n]);
    let ours = attn.forward(x.clone(), Some(&mask));

    let w = attn.qkv.weight.val(); // [d, 3d]
    let zeros = Tensor::zeros([d], &device);
    let bias = Tensor::cat(
        vec![
            attn.q_bias.as_ref().unwrap().val(),
            zeros,
            attn.v_bias.as_ref().unwrap().val(),
        ],
        0,
    );
    let qkv = x.matmul(w.unsqueeze()) + bias.reshape([1, 1, 3 * d]);
    let heads = |i: usize| {
        qkv.clone()
            .narrow(2, i * d, d)
            .reshape([b, n, h, d / h])
            .swap_dims(1, 2)
    };
    let scores = heads(0)
        .matmul(heads(1).swap_dims(2, 3))
        .mul_scalar((d as f64 / h as f64).powf(-0.5));
    let scores = scores.mask_fill(mask.expand([b, h, n, n]), f32::NEG_INFINITY);
    let out = softmax(scores, 3)
        .matmul(heads(2))
        .swap_dims(1, 2)
        .reshape([b, n, d]);
    let reference = attn.proj.forward(out);
    let diff: f32 = (ours - reference).abs().max().into_scalar();
    assert!(diff < 1e-5, "max abs diff {diff}");
}
