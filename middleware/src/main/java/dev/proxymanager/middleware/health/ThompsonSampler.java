package dev.proxymanager.middleware.health;

import java.util.random.RandomGenerator;

/**
 * Thompson sampling for the {@code health-weighted} rotation: draws a plausible success rate for a secret from
 * Beta(1 + successes, 1 + failures); the secret with the highest draw is used. Secrets that fail get drawn low
 * and lose traffic, yet still get an occasional chance to prove they recovered. This class is threadsafe
 * (stateless; the random generator passed in must not be shared across threads).
 */
public final class ThompsonSampler {

    private ThompsonSampler() {
    }

    /** A draw from Beta(1 + successes, 1 + failures) for {@code record}. */
    public static double draw(HealthRecord record, RandomGenerator random) {
        return beta(1.0 + record.successes, 1.0 + record.failures, random);
    }

    /** Above this many observations a Beta is drawn from its normal approximation: one Gaussian, no rejection loop. */
    static final double NORMAL_APPROXIMATION_ABOVE = 60;

    /**
     * A draw from Beta(a, b), a, b &gt;= 1: exact (two Gamma draws) for small counts, from the normal approximation
     * with the same mean and variance, clamped to [0, 1], once {@code a + b} exceeds 60.
     */
    public static double beta(double a, double b, RandomGenerator random) {
        double n = a + b;
        if (n > NORMAL_APPROXIMATION_ABOVE) {
            double mean = a / n;
            double sd = Math.sqrt(a * b / (n * n * (n + 1)));
            return Math.min(1.0, Math.max(0.0, mean + sd * random.nextGaussian()));
        }
        double x = gamma(a, random);
        double y = gamma(b, random);
        return x / (x + y);
    }

    // Marsaglia and Tsang (2000), valid for shape >= 1.
    private static double gamma(double shape, RandomGenerator random) {
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9.0 * d);
        while (true) {
            double x = random.nextGaussian();
            double v = 1.0 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (u < 1.0 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1.0 - v + Math.log(v))) {
                return d * v;
            }
        }
    }
}
