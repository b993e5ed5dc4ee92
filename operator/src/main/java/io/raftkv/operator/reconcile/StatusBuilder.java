package io.raftkv.operator.reconcile;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.raftkv.operator.api.v1alpha1.MemberStatus;
import io.raftkv.operator.api.v1alpha1.RaftCluster;
import io.raftkv.operator.api.v1alpha1.RaftClusterStatus;
import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Planner;
import io.raftkv.operator.plan.Reason;
import io.raftkv.operator.plan.Step;
import io.raftkv.operator.plan.Topology;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Builds the status from one round: observation, step and failure. Pure. A condition keeps its
 * lastTransitionTime while its status does not change (Kubernetes API conventions).
 */
public final class StatusBuilder {
    /** Condition type: a quorum of voters is healthy and a leader is known. */
    public static final String AVAILABLE = "Available";
    /** Condition type: the operator is working towards the spec. */
    public static final String PROGRESSING = "Progressing";
    /** Condition type: the cluster needs attention or the operator refuses a step. */
    public static final String DEGRADED = "Degraded";

    private StatusBuilder() {
    }

    /** The status for {@code rc} after a round that observed {@code o} and took {@code step}. */
    public static RaftClusterStatus build(RaftCluster rc, Topology topology, String clientEndpoint, Observed o, Step step,
            Optional<Throwable> failure) {
        RaftClusterStatus previous = rc.getStatus() == null ? new RaftClusterStatus() : rc.getStatus();
        RaftClusterStatus s = new RaftClusterStatus();
        s.setObservedGeneration(rc.getMetadata().getGeneration());
        s.setClientEndpoint(clientEndpoint);
        List<MemberStatus> members = new ArrayList<>();
        String leader = null;
        int healthy = 0;
        long voters = 0;
        long healthyVoters = 0;
        for (Observed.MemberView m : o.members()) {
            OptionalInt ordinal = topology.ordinalOf(m.peerUrl());
            MemberStatus ms = new MemberStatus();
            ms.setName(ordinal.isPresent() ? topology.memberName(ordinal.getAsInt()) : m.name());
            ms.setId(Long.toHexString(m.id()));
            ms.setPeerURL(m.peerUrl());
            ms.setRole(m.learner() ? MemberStatus.Role.learner : MemberStatus.Role.voter);
            ms.setIsLeader(m.id() == o.leaderId());
            ms.setHealthy(m.healthy());
            ms.setVersion(ordinal.isPresent() ? o.pod(ordinal.getAsInt()).map(Observed.PodView::version).orElse(null)
                    : null);
            ms.setRaftAppliedIndex(m.healthy() ? m.appliedIndex() : null);
            members.add(ms);
            if (ms.getIsLeader()) {
                leader = ms.getName();
            }
            healthy += m.healthy() ? 1 : 0;
            if (!m.learner()) {
                voters++;
                healthyVoters += m.healthy() ? 1 : 0;
            }
        }
        s.setMembers(members);
        s.setLeader(leader);
        s.setReplicas(o.members().size());
        s.setReadyReplicas(healthy);
        List<String> versions = o.pods().stream().map(Observed.PodView::version).distinct().toList();
        s.setCurrentVersion(versions.size() == 1 ? versions.get(0) : previous.getCurrentVersion());
        boolean available = o.leaderId() != 0 && voters > 0 && healthyVoters >= Planner.quorum(voters);
        Reason reason = step.reason();
        String message = step.describe() + failure.map(f -> " (failed: " + f.getMessage() + ")").orElse("");
        Instant now = o.now();
        List<Condition> conditions = new ArrayList<>();
        conditions.add(condition(previous, AVAILABLE, available, available ? "QuorumAvailable" : "QuorumLost",
                healthyVoters + " of " + voters + " voters healthy", now));
        conditions.add(condition(previous, PROGRESSING, reason.kind() == Reason.Kind.PROGRESSING,
                reason.kind() == Reason.Kind.PROGRESSING ? reason.name() : "Idle", message, now));
        boolean degraded = reason.kind() == Reason.Kind.DEGRADED || failure.isPresent();
        conditions.add(condition(previous, DEGRADED, degraded,
                reason.kind() == Reason.Kind.DEGRADED ? reason.name() : failure.isPresent() ? "StepFailed" : "Healthy",
                message, now));
        s.setConditions(conditions);
        // a leadership move serves the step that needs it (scale-down, upgrade, replacement)
        s.setPhase(phase(step instanceof Step.MoveLeader m ? m.because() : reason));
        return s;
    }

    private static String phase(Reason r) {
        return switch (r) {
            case Ready -> "Running";
            case Bootstrapping -> "Creating";
            case ScalingUp, ScalingDown, LearnerCatchingUp, ResizingStatefulSet, ReclaimingStorage -> "Scaling";
            case Upgrading, WaitingForMembers -> "Upgrading";
            case ReplacingMember, ResettingDataDir -> "Replacing";
            default -> "Degraded";
        };
    }

    private static Condition condition(RaftClusterStatus previous, String type, boolean status, String reason,
            String message, Instant now) {
        String value = status ? "True" : "False";
        String since = now.toString();
        if (previous.getConditions() != null) {
            for (Condition c : previous.getConditions()) {
                if (type.equals(c.getType()) && value.equals(c.getStatus()) && c.getLastTransitionTime() != null) {
                    since = c.getLastTransitionTime();
                }
            }
        }
        return new ConditionBuilder().withType(type).withStatus(value).withReason(reason).withMessage(message)
                .withLastTransitionTime(since).build();
    }
}
