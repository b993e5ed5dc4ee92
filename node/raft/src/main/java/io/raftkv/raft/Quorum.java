package io.raftkv.raft;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;

/**
 * Majority arithmetic for simple and joint configurations. In a joint configuration every
 * decision needs a majority of the incoming AND of the outgoing voters (Raft §6). An empty voter
 * set agrees to everything, so a non-joint configuration is a joint one with an empty outgoing
 * half.
 */
final class Quorum {
    /** Outcome of a vote count. */
    enum VoteResult { PENDING, LOST, WON }

    private Quorum() {
    }

    /**
     * The largest index acknowledged by a majority of {@code voters}, given each voter's match
     * index; {@code Long.MAX_VALUE} for an empty set.
     */
    static long committedIndex(Set<Long> voters, LongUnaryOperator matchOf) {
        int n = voters.size();
        if (n == 0) {
            return Long.MAX_VALUE;
        }
        long[] match = new long[n];
        int i = 0;
        for (long id : voters) {
            match[i++] = matchOf.applyAsLong(id);
        }
        Arrays.sort(match);
        // With n sorted ascending, the element at n - (n/2 + 1) is held by n/2 + 1 voters.
        return match[n - (n / 2 + 1)];
    }

    /** Joint committed index: the smaller of the two halves. */
    static long committedIndex(Set<Long> incoming, Set<Long> outgoing, LongUnaryOperator matchOf) {
        return Math.min(committedIndex(incoming, matchOf), committedIndex(outgoing, matchOf));
    }

    /** Result of a vote in one voter set; {@code votes} maps voter id to granted. */
    static VoteResult voteResult(Set<Long> voters, Map<Long, Boolean> votes) {
        if (voters.isEmpty()) {
            return VoteResult.WON;
        }
        int yes = 0;
        int missing = 0;
        for (long id : voters) {
            Boolean v = votes.get(id);
            if (v == null) {
                missing++;
            } else if (v) {
                yes++;
            }
        }
        int q = voters.size() / 2 + 1;
        if (yes >= q) {
            return VoteResult.WON;
        }
        if (yes + missing >= q) {
            return VoteResult.PENDING;
        }
        return VoteResult.LOST;
    }

    /** Joint vote result: won only if both halves won, lost if either lost. */
    static VoteResult voteResult(Set<Long> incoming, Set<Long> outgoing, Map<Long, Boolean> votes) {
        VoteResult a = voteResult(incoming, votes);
        VoteResult b = voteResult(outgoing, votes);
        if (a == b) {
            return a;
        }
        if (a == VoteResult.LOST || b == VoteResult.LOST) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }
}
