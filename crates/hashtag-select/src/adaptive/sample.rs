//! Seeded sampling for Thompson sampling: splitmix64 uniforms, Box-Muller
//! normals, Marsaglia-Tsang gammas, and Beta as a ratio of gammas.

/// Next splitmix64 output.
pub(crate) fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in (0, 1).
pub(crate) fn uniform(state: &mut u64) -> f64 {
    ((next_u64(state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

fn normal(state: &mut u64) -> f64 {
    let (u, v) = (uniform(state), uniform(state));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 by boosting.
fn gamma(state: &mut u64, shape: f64) -> f64 {
    if shape < 1.0 {
        let g = gamma(state, shape + 1.0);
        return g * uniform(state).powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(state);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = uniform(state);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Beta(a, b).
pub(crate) fn beta(state: &mut u64, a: f64, b: f64) -> f64 {
    let x = gamma(state, a);
    let y = gamma(state, b);
    x / (x + y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_moments() {
        // Mean a/(a+b), variance ab/((a+b)^2 (a+b+1)), over 40k draws.
        let mut s = 7;
        for (a, b) in [(1.0, 3.0), (12.0, 40.0), (0.5, 0.5)] {
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| beta(&mut s, a, b)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let (m, v) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
            assert!(
                (mean - m).abs() < 4.0 * (v / n as f64).sqrt(),
                "{a},{b}: {mean} vs {m}"
            );
            assert!((var - v).abs() < 0.05 * v, "{a},{b}: {var} vs {v}");
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        }
    }
}
