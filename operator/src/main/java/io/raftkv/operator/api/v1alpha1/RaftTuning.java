package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Raft timing passed to every node as etcd's {@code --heartbeat-interval} and
 * {@code --election-timeout}. The election timeout must exceed the heartbeat interval (the node
 * refuses to start otherwise), which the schema checks up front.
 */
@ValidationRule(value = "self.electionTimeoutMillis > self.heartbeatIntervalMillis",
        message = "electionTimeoutMillis must exceed heartbeatIntervalMillis")
public class RaftTuning {

    @JsonPropertyDescription("Leader heartbeat period in milliseconds.")
    @Min(10)
    @Max(5000)
    @Default("100")
    private int heartbeatIntervalMillis = 100;

    @JsonPropertyDescription("Follower election timeout in milliseconds (randomised in [t, 2t)).")
    @Min(20)
    @Max(50000)
    @Default("1000")
    private int electionTimeoutMillis = 1000;

    /** Heartbeat period. */
    public int getHeartbeatIntervalMillis() {
        return heartbeatIntervalMillis;
    }

    /** Sets the heartbeat period. */
    public void setHeartbeatIntervalMillis(int heartbeatIntervalMillis) {
        this.heartbeatIntervalMillis = heartbeatIntervalMillis;
    }

    /** Election timeout. */
    public int getElectionTimeoutMillis() {
        return electionTimeoutMillis;
    }

    /** Sets the election timeout. */
    public void setElectionTimeoutMillis(int electionTimeoutMillis) {
        this.electionTimeoutMillis = electionTimeoutMillis;
    }
}
