package io.raftkv.operator.plan;

import java.time.Duration;
import java.util.Objects;

/**
 * The part of the spec the planner acts on.
 *
 * @param replicas desired number of voters
 * @param version desired image tag
 * @param deleteClaimsOnScaleDown true when the reclaim policy is Delete
 * @param replacementEnabled whether failed members are replaced
 * @param unhealthyAfter how long a member must be unhealthy before it is replaced
 */
public record Desired(int replicas, String version, boolean deleteClaimsOnScaleDown, boolean replacementEnabled,
        Duration unhealthyAfter) {

    /** Checks the arguments. */
    public Desired {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be at least 1: " + replicas);
        }
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(unhealthyAfter, "unhealthyAfter");
    }
}
