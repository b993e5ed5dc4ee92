package io.raftkv.raft;

import io.raftkv.raft.sim.Simulation;
import org.junit.jupiter.api.Test;

import java.util.function.LongFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The simulator's checkers can fail: each classic Raft bug, built here in test code by overriding
 * one rule of {@link RaftNode} (or by breaking the driver), is caught within a fixed seed budget.
 * A simulator that could not fail would pass these variants and fail this test.
 */
class SimulationFindsClassicBugsTest {

    /** Raft §5.4.2 broken: the leader commits entries of earlier terms by counting replicas. */
    static final class CommitsPreviousTermEntries extends RaftNode {
        CommitsPreviousTermEntries(Config c, Storage s, long applied) {
            super(c, s, applied);
        }

        @Override
        boolean commitRequiresCurrentTerm() {
            return false;
        }
    }

    /** Raft §5.4.1 broken: votes are granted without the up-to-date log check. */
    static final class VotesWithoutLogCheck extends RaftNode {
        VotesWithoutLogCheck(Config c, Storage s, long applied) {
            super(c, s, applied);
        }

        @Override
        boolean candidateLogIsUpToDate(long lastIndex, long lastTerm) {
            return true;
        }
    }

    /** Thesis §6.4 broken: the leader answers ReadIndex without a heartbeat round. */
    static final class ReadIndexWithoutHeartbeat extends RaftNode {
        ReadIndexWithoutHeartbeat(Config c, Storage s, long applied) {
            super(c, s, applied);
        }

        @Override
        boolean readIndexNeedsQuorumRound() {
            return false;
        }
    }

    /** Returns the first failing seed within the budget, or -1. */
    private static long firstFailingSeed(int budget, LongFunction<Simulation.Options> options) {
        for (long seed = 1; seed <= budget; seed++) {
            Simulation.Outcome o = Simulation.run(options.apply(seed));
            if (!o.ok()) {
                System.out.println("caught at seed " + seed + " (" + o.nodes() + " nodes): " + o.failure().lines().findFirst().orElse(""));
                return seed;
            }
        }
        return -1;
    }

    @Test
    void votingWithoutTheUpToDateCheckIsCaught() {
        long seed = firstFailingSeed(BUDGET, s -> Simulation.Options.standard(size(s), s)
                .withFactory(VotesWithoutLogCheck::new));
        assertThat(seed).as("seed that exposes the bug").isPositive();
    }

    @Test
    void notPersistingTheVoteBeforeReplyingIsCaught() {
        long seed = firstFailingSeed(BUDGET, s -> Simulation.Options.standard(size(s), s).withPersistVotes(false));
        assertThat(seed).as("seed that exposes the bug").isPositive();
    }

    @Test
    void readIndexWithoutAHeartbeatRoundIsCaught() {
        long seed = firstFailingSeed(BUDGET, s -> Simulation.Options.standard(size(s), s)
                .withFactory(ReadIndexWithoutHeartbeat::new));
        assertThat(seed).as("seed that exposes the bug").isPositive();
    }

    @Test
    void committingAPreviousTermEntryByCountingIsCaught() {
        long seed = firstFailingSeed(BUDGET, s -> Simulation.Options.standard(size(s), s).withLeaderChurn()
                .withFactory(CommitsPreviousTermEntries::new));
        assertThat(seed).as("seed that exposes the bug").isPositive();
    }

    private static final int BUDGET = Integer.getInteger("sim.bugBudget", 1000);

    private static int size(long seed) {
        return seed % 2 == 0 ? 3 : 5;
    }
}
