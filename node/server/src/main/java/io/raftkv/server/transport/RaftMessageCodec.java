package io.raftkv.server.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.server.api.peer.RaftMessage;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Converts {@link Message} to and from its wire form {@link RaftMessage} (raftkv/peer.proto).
 * Total: every field of every kind survives a round trip, including a null versus an empty
 * ReadIndex context and a joint {@link ConfState}.
 *
 * <p>Stateless and thread-safe. Encoding wraps byte arrays without copying them: the caller
 * must not mutate a message's arrays once it is handed over (the same rule as {@link Entry}).
 * Decoding copies, so a decoded message owns its arrays.
 */
public final class RaftMessageCodec {
    /** Fixed per-message allowance in {@link #estimateSizeBytes}: header fields and framing. */
    private static final long MESSAGE_OVERHEAD_BYTES = 64;

    private RaftMessageCodec() {
    }

    /** Encodes a message. Never fails for a well-formed message. */
    public static RaftMessage toProto(Message message) {
        RaftMessage.Builder b = RaftMessage.newBuilder()
                .setFrom(message.from())
                .setTo(message.to())
                .setTerm(message.term());
        if (message instanceof Message.Propose m) {
            b.setPropose(io.raftkv.server.api.peer.Propose.newBuilder()
                    .addAllEntries(entriesToProto(m.entries())));
        } else if (message instanceof Message.AppendEntries m) {
            b.setAppendEntries(io.raftkv.server.api.peer.AppendEntries.newBuilder()
                    .setPrevIndex(m.prevIndex())
                    .setPrevTerm(m.prevTerm())
                    .addAllEntries(entriesToProto(m.entries()))
                    .setCommit(m.commit()));
        } else if (message instanceof Message.AppendResponse m) {
            b.setAppendResponse(io.raftkv.server.api.peer.AppendResponse.newBuilder()
                    .setIndex(m.index())
                    .setReject(m.reject())
                    .setRejectHint(m.rejectHint())
                    .setLogTerm(m.logTerm()));
        } else if (message instanceof Message.Heartbeat m) {
            var h = io.raftkv.server.api.peer.Heartbeat.newBuilder().setCommit(m.commit());
            if (m.context() != null) {
                h.setContext(wrap(m.context()));
            }
            b.setHeartbeat(h);
        } else if (message instanceof Message.HeartbeatResponse m) {
            var h = io.raftkv.server.api.peer.HeartbeatResponse.newBuilder();
            if (m.context() != null) {
                h.setContext(wrap(m.context()));
            }
            b.setHeartbeatResponse(h);
        } else if (message instanceof Message.RequestVote m) {
            b.setRequestVote(io.raftkv.server.api.peer.RequestVote.newBuilder()
                    .setLastIndex(m.lastIndex())
                    .setLastTerm(m.lastTerm())
                    .setPreVote(m.preVote())
                    .setTransfer(m.transfer()));
        } else if (message instanceof Message.VoteResponse m) {
            b.setVoteResponse(io.raftkv.server.api.peer.VoteResponse.newBuilder()
                    .setReject(m.reject())
                    .setPreVote(m.preVote()));
        } else if (message instanceof Message.InstallSnapshot m) {
            b.setInstallSnapshot(io.raftkv.server.api.peer.InstallSnapshot.newBuilder()
                    .setMetadata(metadataToProto(m.snapshot().metadata()))
                    .setData(wrap(m.snapshot().data())));
        } else if (message instanceof Message.TimeoutNow) {
            b.setTimeoutNow(io.raftkv.server.api.peer.TimeoutNow.getDefaultInstance());
        } else if (message instanceof Message.TransferLeader m) {
            b.setTransferLeader(io.raftkv.server.api.peer.TransferLeader.newBuilder()
                    .setTransferee(m.transferee()));
        } else if (message instanceof Message.ReadIndexRequest m) {
            var r = io.raftkv.server.api.peer.ReadIndexRequest.newBuilder();
            if (m.context() != null) {
                r.setContext(wrap(m.context()));
            }
            b.setReadIndexRequest(r);
        } else if (message instanceof Message.ReadIndexResponse m) {
            var r = io.raftkv.server.api.peer.ReadIndexResponse.newBuilder().setIndex(m.index());
            if (m.context() != null) {
                r.setContext(wrap(m.context()));
            }
            b.setReadIndexResponse(r);
        } else {
            // Unreachable while Message is sealed and every permitted kind is handled above.
            throw new IllegalArgumentException("unknown message kind " + message.getClass().getName());
        }
        return b.build();
    }

    /**
     * Decodes a message.
     *
     * @throws IllegalArgumentException if {@code proto} carries no kind or an unknown entry type
     *                                  (a peer running an incompatible version)
     */
    public static Message fromProto(RaftMessage proto) {
        long from = proto.getFrom();
        long to = proto.getTo();
        long term = proto.getTerm();
        return switch (proto.getKindCase()) {
            case PROPOSE -> new Message.Propose(from, to, term, entriesFromProto(proto.getPropose().getEntriesList()));
            case APPEND_ENTRIES -> {
                var m = proto.getAppendEntries();
                yield new Message.AppendEntries(from, to, term, m.getPrevIndex(), m.getPrevTerm(),
                        entriesFromProto(m.getEntriesList()), m.getCommit());
            }
            case APPEND_RESPONSE -> {
                var m = proto.getAppendResponse();
                yield new Message.AppendResponse(from, to, term, m.getIndex(), m.getReject(),
                        m.getRejectHint(), m.getLogTerm());
            }
            case HEARTBEAT -> {
                var m = proto.getHeartbeat();
                yield new Message.Heartbeat(from, to, term, m.getCommit(),
                        m.hasContext() ? m.getContext().toByteArray() : null);
            }
            case HEARTBEAT_RESPONSE -> {
                var m = proto.getHeartbeatResponse();
                yield new Message.HeartbeatResponse(from, to, term,
                        m.hasContext() ? m.getContext().toByteArray() : null);
            }
            case REQUEST_VOTE -> {
                var m = proto.getRequestVote();
                yield new Message.RequestVote(from, to, term, m.getLastIndex(), m.getLastTerm(),
                        m.getPreVote(), m.getTransfer());
            }
            case VOTE_RESPONSE -> {
                var m = proto.getVoteResponse();
                yield new Message.VoteResponse(from, to, term, m.getReject(), m.getPreVote());
            }
            case INSTALL_SNAPSHOT -> {
                var m = proto.getInstallSnapshot();
                yield new Message.InstallSnapshot(from, to, term,
                        new Snapshot(metadataFromProto(m.getMetadata()), m.getData().toByteArray()));
            }
            case TIMEOUT_NOW -> new Message.TimeoutNow(from, to, term);
            case TRANSFER_LEADER -> new Message.TransferLeader(from, to, term, proto.getTransferLeader().getTransferee());
            case READ_INDEX_REQUEST -> {
                var m = proto.getReadIndexRequest();
                yield new Message.ReadIndexRequest(from, to, term, m.hasContext() ? m.getContext().toByteArray() : null);
            }
            case READ_INDEX_RESPONSE -> {
                var m = proto.getReadIndexResponse();
                yield new Message.ReadIndexResponse(from, to, term, m.getIndex(),
                        m.hasContext() ? m.getContext().toByteArray() : null);
            }
            case KIND_NOT_SET -> throw new IllegalArgumentException(
                    "raft message from " + from + " to " + to + " carries no kind");
        };
    }

    /** Encodes snapshot metadata, including a joint configuration. */
    public static io.raftkv.server.api.peer.SnapshotMetadata metadataToProto(SnapshotMetadata metadata) {
        ConfState cs = metadata.confState();
        return io.raftkv.server.api.peer.SnapshotMetadata.newBuilder()
                .setIndex(metadata.index())
                .setTerm(metadata.term())
                .setConfState(io.raftkv.server.api.peer.ConfState.newBuilder()
                        .addAllVoters(cs.voters())
                        .addAllLearners(cs.learners())
                        .addAllVotersOutgoing(cs.votersOutgoing())
                        .addAllLearnersNext(cs.learnersNext())
                        .setAutoLeave(cs.autoLeave()))
                .build();
    }

    /** Decodes snapshot metadata. */
    public static SnapshotMetadata metadataFromProto(io.raftkv.server.api.peer.SnapshotMetadata proto) {
        var cs = proto.getConfState();
        return new SnapshotMetadata(proto.getIndex(), proto.getTerm(), new ConfState(
                idSet(cs.getVotersList()), idSet(cs.getLearnersList()), idSet(cs.getVotersOutgoingList()),
                idSet(cs.getLearnersNextList()), cs.getAutoLeave()));
    }

    /**
     * Approximate encoded size of a message, for queue and batch byte limits: payload bytes plus
     * a fixed allowance per message and per entry. Cheap; does not encode.
     */
    public static long estimateSizeBytes(Message message) {
        long payload = 0;
        if (message instanceof Message.Propose m) {
            payload = entriesSizeBytes(m.entries());
        } else if (message instanceof Message.AppendEntries m) {
            payload = entriesSizeBytes(m.entries());
        } else if (message instanceof Message.Heartbeat m) {
            payload = length(m.context());
        } else if (message instanceof Message.HeartbeatResponse m) {
            payload = length(m.context());
        } else if (message instanceof Message.InstallSnapshot m) {
            payload = m.snapshot().data().length;
        } else if (message instanceof Message.ReadIndexRequest m) {
            payload = length(m.context());
        } else if (message instanceof Message.ReadIndexResponse m) {
            payload = length(m.context());
        }
        return MESSAGE_OVERHEAD_BYTES + payload;
    }

    private static long entriesSizeBytes(List<Entry> entries) {
        long sum = 0;
        for (Entry e : entries) {
            sum += e.sizeBytes();
        }
        return sum;
    }

    private static long length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static List<io.raftkv.server.api.peer.Entry> entriesToProto(List<Entry> entries) {
        List<io.raftkv.server.api.peer.Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(io.raftkv.server.api.peer.Entry.newBuilder()
                    .setTerm(e.term())
                    .setIndex(e.index())
                    .setType(switch (e.type()) {
                        case NORMAL -> io.raftkv.server.api.peer.EntryType.ENTRY_TYPE_NORMAL;
                        case CONF_CHANGE -> io.raftkv.server.api.peer.EntryType.ENTRY_TYPE_CONF_CHANGE;
                    })
                    .setData(wrap(e.data()))
                    .build());
        }
        return out;
    }

    private static List<Entry> entriesFromProto(List<io.raftkv.server.api.peer.Entry> entries) {
        List<Entry> out = new ArrayList<>(entries.size());
        for (var e : entries) {
            EntryType type = switch (e.getType()) {
                case ENTRY_TYPE_NORMAL -> EntryType.NORMAL;
                case ENTRY_TYPE_CONF_CHANGE -> EntryType.CONF_CHANGE;
                case UNRECOGNIZED -> throw new IllegalArgumentException(
                        "entry " + e.getIndex() + " has unknown type " + e.getTypeValue());
            };
            out.add(new Entry(e.getTerm(), e.getIndex(), type, e.getData().toByteArray()));
        }
        return List.copyOf(out);
    }

    private static Set<Long> idSet(List<Long> ids) {
        return new HashSet<>(ids);
    }

    private static ByteString wrap(byte[] bytes) {
        return UnsafeByteOperations.unsafeWrap(bytes);
    }
}
