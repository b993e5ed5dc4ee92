package io.raftkv.raft;

import java.util.random.RandomGenerator;

/**
 * Parameters of one Raft node. Times are in ticks; the driver decides how long a tick is.
 * The defaults match the seed card at a 50 ms tick: heartbeat every 2 ticks (100 ms), election
 * timeout randomized in [3, 6) ticks (150-300 ms).
 *
 * @param id                 this node's id, non-zero
 * @param electionTicks      base election timeout; the randomized timeout is in [e, 2e)
 * @param heartbeatTicks     leader heartbeat interval; must be below electionTicks
 * @param maxSizePerMsgBytes cap on the entries of one AppendEntries (at least one entry is sent)
 * @param maxInflightMsgs    pipelining window per follower in REPLICATE state
 * @param maxApplyBytes      cap on committed entries returned in one Ready
 * @param preVote            run a pre-vote before each election (thesis §9.6)
 * @param checkQuorum        leader steps down without a quorum of recent contact; followers
 *                           ignore vote requests while their leader lease holds
 * @param random             seeded source of randomness for election timeouts
 * @param maxInflightBytes   bytes of entries in unacknowledged AppendEntries per follower in
 *                           REPLICATE state (etcd's MaxInflightBytes); 0 = bounded by the message
 *                           count only. The window is full once it holds this many, so one message
 *                           larger than the bound still goes
 */
public record Config(long id, int electionTicks, int heartbeatTicks, long maxSizePerMsgBytes,
                     int maxInflightMsgs, long maxApplyBytes, boolean preVote, boolean checkQuorum,
                     RandomGenerator random, long maxInflightBytes) {

    public Config {
        if (id == RaftNode.NONE) {
            throw new IllegalArgumentException("node id must not be 0");
        }
        if (heartbeatTicks <= 0 || electionTicks <= heartbeatTicks) {
            throw new IllegalArgumentException("need 0 < heartbeatTicks < electionTicks");
        }
        if (maxInflightMsgs <= 0) {
            throw new IllegalArgumentException("maxInflightMsgs must be positive");
        }
        if (random == null) {
            throw new IllegalArgumentException("a seeded RandomGenerator is required");
        }
        if (maxInflightBytes < 0) {
            throw new IllegalArgumentException("maxInflightBytes must not be negative");
        }
    }

    /** A configuration whose in-flight window is bounded by message count only. */
    public Config(long id, int electionTicks, int heartbeatTicks, long maxSizePerMsgBytes, int maxInflightMsgs,
                  long maxApplyBytes, boolean preVote, boolean checkQuorum, RandomGenerator random) {
        this(id, electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, maxApplyBytes, preVote,
                checkQuorum, random, 0);
    }

    /** Defaults: election 3 ticks, heartbeat 2 ticks, 1 MiB messages, 512 in flight, pre-vote and check-quorum on. */
    public static Config defaults(long id, RandomGenerator random) {
        return new Config(id, 3, 2, 1 << 20, 512, 64L << 20, true, true, random);
    }

    /** A copy with other election and heartbeat ticks. */
    public Config withTicks(int election, int heartbeat) {
        return new Config(id, election, heartbeat, maxSizePerMsgBytes, maxInflightMsgs, maxApplyBytes, preVote, checkQuorum,
                random, maxInflightBytes);
    }

    /** A copy whose in-flight window per follower also holds at most {@code bytes} of entries. */
    public Config withMaxInflightBytes(long bytes) {
        return new Config(id, electionTicks, heartbeatTicks, maxSizePerMsgBytes, maxInflightMsgs, maxApplyBytes, preVote,
                checkQuorum, random, bytes);
    }
}
