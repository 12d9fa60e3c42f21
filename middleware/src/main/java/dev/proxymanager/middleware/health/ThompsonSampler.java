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

    /** A draw from Beta(a, b), a, b &gt;= 1, via two Gamma draws. */
    public static double beta(double a, double b, RandomGenerator random) {
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
