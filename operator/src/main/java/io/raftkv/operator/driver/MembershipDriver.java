package io.raftkv.operator.driver;

import io.raftkv.operator.member.MemberClient;
import io.raftkv.operator.plan.Desired;
import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Planner;
import io.raftkv.operator.plan.Step;
import io.raftkv.operator.plan.Topology;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One reconcile round for one cluster: observe, plan, execute the single step. Holds no state
 * between rounds (a fresh instance after an operator restart behaves the same). Blocking; one
 * round at a time per cluster.
 */
public final class MembershipDriver {
    private final Topology topology;
    private final Workloads workloads;
    private final MemberClient client;
    private final ClusterObserver observer;
    private final Planner planner;
    private final StepListener listener;

    /** A driver for one cluster. */
    public MembershipDriver(Topology topology, Workloads workloads, MemberClient client, ClusterObserver observer,
            StepListener listener) {
        this.topology = topology;
        this.workloads = workloads;
        this.client = client;
        this.observer = observer;
        this.planner = new Planner(topology);
        this.listener = listener;
    }

    /** The outcome of a round: what was seen, what was done, and the failure if it failed. */
    public record Round(Observed observed, Step step, Optional<Throwable> failure) {}

    /** Runs one round towards {@code desired}. Failures of the step are reported, not thrown. */
    public Round reconcileOnce(Desired desired) {
        Observed observed = observer.observe();
        Optional<Throwable> failure = Optional.empty();
        Step step = null;
        try {
            if (observed.memberListKnown()) {
                workloads.admit(admitted(observed));
            }
            step = planner.plan(desired, observed);
            execute(step, observed);
        } catch (RuntimeException e) {
            failure = Optional.of(e);
        }
        if (step != null) {
            listener.stepTaken(step, observed, failure);
        }
        return new Round(observed, step, failure);
    }

    /** Ordinals of members that are listed but have never started: they may start with an empty data dir. */
    private Set<Integer> admitted(Observed observed) {
        Set<Integer> out = new TreeSet<>();
        for (Observed.MemberView m : observed.members()) {
            if (!m.started()) {
                topology.ordinalOf(m.peerUrl()).ifPresent(out::add);
            }
        }
        return out;
    }

    private void admitAlso(Observed observed, int ordinal) {
        Set<Integer> admitted = admitted(observed);
        admitted.add(ordinal);
        workloads.admit(admitted);
    }

    private void execute(Step step, Observed observed) {
        List<String> endpoints = observed.members().stream().filter(Observed.MemberView::healthy)
                .map(m -> topology.clientUrl(topology.ordinalOf(m.peerUrl()).orElseThrow())).toList();
        if (step instanceof Step.Bootstrap b) {
            workloads.bootstrap(b.initialCluster(), b.replicas());
        } else if (step instanceof Step.FinishBootstrap) {
            workloads.finishBootstrap();
        } else if (step instanceof Step.AddLearner a) {
            client.addLearner(endpoints, a.peerUrl());
            admitAlso(observed, a.ordinal());
        } else if (step instanceof Step.PromoteLearner p) {
            client.promote(endpoints, p.id());
        } else if (step instanceof Step.MoveLeader m) {
            client.moveLeader(endpoints, m.toId());
        } else if (step instanceof Step.RemoveMember r) {
            client.remove(endpoints, r.id());
        } else if (step instanceof Step.ScaleStatefulSet s) {
            workloads.scale(s.replicas());
        } else if (step instanceof Step.ReclaimClaim c) {
            workloads.deleteClaim(c.ordinal());
        } else if (step instanceof Step.ReplaceMember r) {
            client.replace(endpoints, r.oldId(), r.name(), r.peerUrl());
            // admitted before the pod restarts on an empty volume, so it joins as the new member at once
            admitAlso(observed, r.ordinal());
            workloads.resetDataDir(r.ordinal());
        } else if (step instanceof Step.ResetDataDir r) {
            workloads.resetDataDir(r.ordinal());
        } else if (step instanceof Step.RestartMember r) {
            workloads.restart(r.ordinal(), r.version());
        }
    }
}
