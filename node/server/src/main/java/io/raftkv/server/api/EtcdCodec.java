package io.raftkv.server.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.MvccException;
import io.raftkv.server.api.etcd.Compare;
import io.raftkv.server.api.etcd.DeleteRangeRequest;
import io.raftkv.server.api.etcd.DeleteRangeResponse;
import io.raftkv.server.api.etcd.LeaseGrantResponse;
import io.raftkv.server.api.etcd.LeaseRevokeResponse;
import io.raftkv.server.api.etcd.LeaseTimeToLiveResponse;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.etcd.PutResponse;
import io.raftkv.server.api.etcd.RangeRequest;
import io.raftkv.server.api.etcd.RangeResponse;
import io.raftkv.server.api.etcd.RequestOp;
import io.raftkv.server.api.etcd.ResponseHeader;
import io.raftkv.server.api.etcd.ResponseOp;
import io.raftkv.server.api.etcd.TxnRequest;
import io.raftkv.server.api.etcd.TxnResponse;
import io.raftkv.server.api.mvcc.Event;
import io.raftkv.server.api.mvcc.KeyValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Conversions between the etcd v3 protos ({@code etcdserverpb}, {@code mvccpb}) and the MVCC
 * store's records ({@link io.raftkv.mvcc}), the request checks etcd's gRPC layer makes before
 * proposing (etcd {@code v3rpc/key.go}), and the mapping of store refusals to etcd's gRPC errors.
 *
 * <p>Contract: every method is static, pure and thread-safe. Proto-to-record conversions
 * ({@code toMvcc}) are total: any proto gives a record or a {@link StatusRuntimeException} in
 * etcd's terms (an unset {@code RequestOp} is etcd's "key not found"; an enum number this proto
 * version does not know is INVALID_ARGUMENT, where etcd would silently ignore it). Both
 * directions are exact for every field the records carry; the only proto field the records do
 * not carry is {@code RangeRequest.serializable}, which picks the read path, not the result
 * (read it from the proto). Proto types are named plainly, the store's records as
 * {@code io.raftkv.mvcc.X}, because the two share their etcd names.
 *
 * <p>Headers: a top-level response gets the caller's header with the record's revision (the
 * store decides the revision, the server the cluster id, member id and term). Responses nested
 * in a transaction get a header holding only the revision, as etcd fills only the outer one.
 */
public final class EtcdCodec {

    private static final Comparator<ByteString> KEY_ORDER =
            ByteString.unsignedLexicographicalComparator();

    private EtcdCodec() {}

    // ---------------------------------------------------------------------------- headers

    /** A response header; etcd sends ids and term as uint64, carried here in a long's bits. */
    public static ResponseHeader header(
            long clusterId, long memberId, long revision, long raftTerm) {
        return ResponseHeader.newBuilder()
                .setClusterId(clusterId)
                .setMemberId(memberId)
                .setRevision(revision)
                .setRaftTerm(raftTerm)
                .build();
    }

    private static ResponseHeader withRevision(ResponseHeader base, long revision) {
        return base.toBuilder().setRevision(revision).build();
    }

    private static ResponseHeader nestedHeader(long revision) {
        return ResponseHeader.newBuilder().setRevision(revision).build();
    }

    // ---------------------------------------------------------------------------- bytes

    /** The proto bytes as a store byte string. */
    public static Bytes toMvcc(ByteString bytes) {
        // One copy: the buffer is a read-only view of the proto's bytes.
        return Bytes.copyOf(bytes.asReadOnlyByteBuffer());
    }

    /** The store byte string as proto bytes. */
    public static ByteString toProto(Bytes bytes) {
        // toByteArray() returns a fresh copy that nothing else references, so wrapping is safe.
        return bytes.isEmpty()
                ? ByteString.EMPTY
                : UnsafeByteOperations.unsafeWrap(bytes.toByteArray());
    }

    // ---------------------------------------------------------------------------- key-values

    /** An {@code mvccpb.KeyValue} as a store key-value, field by field. */
    public static io.raftkv.mvcc.KeyValue toMvcc(KeyValue kv) {
        return new io.raftkv.mvcc.KeyValue(
                toMvcc(kv.getKey()),
                kv.getCreateRevision(),
                kv.getModRevision(),
                kv.getVersion(),
                toMvcc(kv.getValue()),
                kv.getLease());
    }

    /** A store key-value as an {@code mvccpb.KeyValue}, field by field. */
    public static KeyValue toProto(io.raftkv.mvcc.KeyValue kv) {
        return KeyValue.newBuilder()
                .setKey(toProto(kv.key()))
                .setCreateRevision(kv.createRevision())
                .setModRevision(kv.modRevision())
                .setVersion(kv.version())
                .setValue(toProto(kv.value()))
                .setLease(kv.lease())
                .build();
    }

    private static List<io.raftkv.mvcc.KeyValue> kvsToMvcc(List<KeyValue> kvs) {
        List<io.raftkv.mvcc.KeyValue> out = new ArrayList<>(kvs.size());
        for (KeyValue kv : kvs) {
            out.add(toMvcc(kv));
        }
        return out;
    }

    private static List<KeyValue> kvsToProto(List<io.raftkv.mvcc.KeyValue> kvs) {
        List<KeyValue> out = new ArrayList<>(kvs.size());
        for (io.raftkv.mvcc.KeyValue kv : kvs) {
            out.add(toProto(kv));
        }
        return out;
    }

    // ---------------------------------------------------------------------------- events

    /** A store event as the {@code mvccpb.Event} a watcher receives; prev_kv only when known. */
    public static Event toProto(io.raftkv.mvcc.Event event) {
        Event.Builder b = Event.newBuilder()
                .setType(switch (event.type()) {
                    case PUT -> Event.EventType.PUT;
                    case DELETE -> Event.EventType.DELETE;
                })
                .setKv(toProto(event.kv()));
        event.prevKv().ifPresent(prev -> b.setPrevKv(toProto(prev)));
        return b.build();
    }

    /** An {@code mvccpb.Event} as a store event; an unknown event type is INVALID_ARGUMENT. */
    public static io.raftkv.mvcc.Event toMvcc(Event event) {
        io.raftkv.mvcc.Event.Type type = switch (event.getType()) {
            case PUT -> io.raftkv.mvcc.Event.Type.PUT;
            case DELETE -> io.raftkv.mvcc.Event.Type.DELETE;
            case UNRECOGNIZED -> throw unknownEnum("event type", event.getTypeValue());
        };
        return new io.raftkv.mvcc.Event(
                type,
                toMvcc(event.getKv()),
                event.hasPrevKv() ? Optional.of(toMvcc(event.getPrevKv())) : Optional.empty());
    }

    // ---------------------------------------------------------------------------- range

    /**
     * A {@code RangeRequest} as the store's request. {@code serializable} is not carried (it
     * selects the read path); unknown sort order or target numbers are INVALID_ARGUMENT.
     */
    public static io.raftkv.mvcc.RangeRequest toMvcc(RangeRequest r) {
        return new io.raftkv.mvcc.RangeRequest(
                toMvcc(r.getKey()),
                toMvcc(r.getRangeEnd()),
                r.getRevision(),
                r.getLimit(),
                r.getCountOnly(),
                r.getKeysOnly(),
                switch (r.getSortOrder()) {
                    case NONE -> io.raftkv.mvcc.RangeRequest.SortOrder.NONE;
                    case ASCEND -> io.raftkv.mvcc.RangeRequest.SortOrder.ASCEND;
                    case DESCEND -> io.raftkv.mvcc.RangeRequest.SortOrder.DESCEND;
                    case UNRECOGNIZED -> throw unknownEnum("sort order", r.getSortOrderValue());
                },
                switch (r.getSortTarget()) {
                    case KEY -> io.raftkv.mvcc.RangeRequest.SortTarget.KEY;
                    case VERSION -> io.raftkv.mvcc.RangeRequest.SortTarget.VERSION;
                    case CREATE -> io.raftkv.mvcc.RangeRequest.SortTarget.CREATE;
                    case MOD -> io.raftkv.mvcc.RangeRequest.SortTarget.MOD;
                    case VALUE -> io.raftkv.mvcc.RangeRequest.SortTarget.VALUE;
                    case UNRECOGNIZED -> throw unknownEnum("sort target", r.getSortTargetValue());
                },
                r.getMinModRevision(),
                r.getMaxModRevision(),
                r.getMinCreateRevision(),
                r.getMaxCreateRevision());
    }

    /** The store's range request as a {@code RangeRequest} (not serializable). */
    public static RangeRequest toProto(io.raftkv.mvcc.RangeRequest r) {
        return RangeRequest.newBuilder()
                .setKey(toProto(r.key()))
                .setRangeEnd(toProto(r.rangeEnd()))
                .setRevision(r.revision())
                .setLimit(r.limit())
                .setCountOnly(r.countOnly())
                .setKeysOnly(r.keysOnly())
                .setSortOrder(switch (r.sortOrder()) {
                    case NONE -> RangeRequest.SortOrder.NONE;
                    case ASCEND -> RangeRequest.SortOrder.ASCEND;
                    case DESCEND -> RangeRequest.SortOrder.DESCEND;
                })
                .setSortTarget(switch (r.sortTarget()) {
                    case KEY -> RangeRequest.SortTarget.KEY;
                    case VERSION -> RangeRequest.SortTarget.VERSION;
                    case CREATE -> RangeRequest.SortTarget.CREATE;
                    case MOD -> RangeRequest.SortTarget.MOD;
                    case VALUE -> RangeRequest.SortTarget.VALUE;
                })
                .setMinModRevision(r.minModRevision())
                .setMaxModRevision(r.maxModRevision())
                .setMinCreateRevision(r.minCreateRevision())
                .setMaxCreateRevision(r.maxCreateRevision())
                .build();
    }

    /** The store's range result as a top-level response: {@code base}'s header, its revision. */
    public static RangeResponse toProto(io.raftkv.mvcc.RangeResponse r, ResponseHeader base) {
        return rangeResponse(r, withRevision(base, r.revision()));
    }

    private static RangeResponse rangeResponse(io.raftkv.mvcc.RangeResponse r, ResponseHeader h) {
        return RangeResponse.newBuilder()
                .setHeader(h)
                .addAllKvs(kvsToProto(r.kvs()))
                .setMore(r.more())
                .setCount(r.count())
                .build();
    }

    /** A {@code RangeResponse} as the store's result; the revision is the header's. */
    public static io.raftkv.mvcc.RangeResponse toMvcc(RangeResponse r) {
        return new io.raftkv.mvcc.RangeResponse(
                r.getHeader().getRevision(), kvsToMvcc(r.getKvsList()), r.getMore(), r.getCount());
    }

    // ---------------------------------------------------------------------------- put

    /** A {@code PutRequest} as the store's request, field by field. */
    public static io.raftkv.mvcc.PutRequest toMvcc(PutRequest p) {
        return new io.raftkv.mvcc.PutRequest(
                toMvcc(p.getKey()),
                toMvcc(p.getValue()),
                p.getLease(),
                p.getPrevKv(),
                p.getIgnoreValue(),
                p.getIgnoreLease());
    }

    /** The store's put request as a {@code PutRequest}, field by field. */
    public static PutRequest toProto(io.raftkv.mvcc.PutRequest p) {
        return PutRequest.newBuilder()
                .setKey(toProto(p.key()))
                .setValue(toProto(p.value()))
                .setLease(p.lease())
                .setPrevKv(p.prevKv())
                .setIgnoreValue(p.ignoreValue())
                .setIgnoreLease(p.ignoreLease())
                .build();
    }

    /** The store's put result as a top-level response: {@code base}'s header, its revision. */
    public static PutResponse toProto(io.raftkv.mvcc.PutResponse r, ResponseHeader base) {
        return putResponse(r, withRevision(base, r.revision()));
    }

    private static PutResponse putResponse(io.raftkv.mvcc.PutResponse r, ResponseHeader h) {
        PutResponse.Builder b = PutResponse.newBuilder().setHeader(h);
        r.prevKv().ifPresent(prev -> b.setPrevKv(toProto(prev)));
        return b.build();
    }

    /** A {@code PutResponse} as the store's result; prev_kv only when set. */
    public static io.raftkv.mvcc.PutResponse toMvcc(PutResponse r) {
        return new io.raftkv.mvcc.PutResponse(
                r.getHeader().getRevision(),
                r.hasPrevKv() ? Optional.of(toMvcc(r.getPrevKv())) : Optional.empty());
    }

    // ---------------------------------------------------------------------------- delete

    /** A {@code DeleteRangeRequest} as the store's request, field by field. */
    public static io.raftkv.mvcc.DeleteRangeRequest toMvcc(DeleteRangeRequest d) {
        return new io.raftkv.mvcc.DeleteRangeRequest(
                toMvcc(d.getKey()), toMvcc(d.getRangeEnd()), d.getPrevKv());
    }

    /** The store's delete request as a {@code DeleteRangeRequest}, field by field. */
    public static DeleteRangeRequest toProto(io.raftkv.mvcc.DeleteRangeRequest d) {
        return DeleteRangeRequest.newBuilder()
                .setKey(toProto(d.key()))
                .setRangeEnd(toProto(d.rangeEnd()))
                .setPrevKv(d.prevKv())
                .build();
    }

    /** The store's delete result as a top-level response: {@code base}'s header, its revision. */
    public static DeleteRangeResponse toProto(
            io.raftkv.mvcc.DeleteRangeResponse r, ResponseHeader base) {
        return deleteResponse(r, withRevision(base, r.revision()));
    }

    private static DeleteRangeResponse deleteResponse(
            io.raftkv.mvcc.DeleteRangeResponse r, ResponseHeader h) {
        return DeleteRangeResponse.newBuilder()
                .setHeader(h)
                .setDeleted(r.deleted())
                .addAllPrevKvs(kvsToProto(r.prevKvs()))
                .build();
    }

    /** A {@code DeleteRangeResponse} as the store's result. */
    public static io.raftkv.mvcc.DeleteRangeResponse toMvcc(DeleteRangeResponse r) {
        return new io.raftkv.mvcc.DeleteRangeResponse(
                r.getHeader().getRevision(), r.getDeleted(), kvsToMvcc(r.getPrevKvsList()));
    }

    // ---------------------------------------------------------------------------- compare

    /**
     * A {@code Compare} as the store's compare. The operand is read from the union field that
     * matches the target; when another field (or none) is set the operand is 0 or empty, which is
     * what etcd compares against in that case. Unknown target or result numbers are
     * INVALID_ARGUMENT.
     */
    public static io.raftkv.mvcc.Compare toMvcc(Compare c) {
        io.raftkv.mvcc.Compare.Target target;
        long number;
        ByteString value = ByteString.EMPTY;
        switch (c.getTarget()) {
            case VERSION -> {
                target = io.raftkv.mvcc.Compare.Target.VERSION;
                number = c.getVersion();
            }
            case CREATE -> {
                target = io.raftkv.mvcc.Compare.Target.CREATE;
                number = c.getCreateRevision();
            }
            case MOD -> {
                target = io.raftkv.mvcc.Compare.Target.MOD;
                number = c.getModRevision();
            }
            case VALUE -> {
                target = io.raftkv.mvcc.Compare.Target.VALUE;
                number = 0;
                value = c.getValue();
            }
            case LEASE -> {
                target = io.raftkv.mvcc.Compare.Target.LEASE;
                number = c.getLease();
            }
            default -> throw unknownEnum("compare target", c.getTargetValue());
        }
        io.raftkv.mvcc.Compare.Result result = switch (c.getResult()) {
            case EQUAL -> io.raftkv.mvcc.Compare.Result.EQUAL;
            case GREATER -> io.raftkv.mvcc.Compare.Result.GREATER;
            case LESS -> io.raftkv.mvcc.Compare.Result.LESS;
            case NOT_EQUAL -> io.raftkv.mvcc.Compare.Result.NOT_EQUAL;
            case UNRECOGNIZED -> throw unknownEnum("compare result", c.getResultValue());
        };
        return new io.raftkv.mvcc.Compare(
                toMvcc(c.getKey()), toMvcc(c.getRangeEnd()), target, result, number, toMvcc(value));
    }

    /**
     * The store's compare as a {@code Compare}, setting the union field of its target. The
     * operand the target does not use (the number for VALUE, the value otherwise) is not sent.
     */
    public static Compare toProto(io.raftkv.mvcc.Compare c) {
        Compare.Builder b = Compare.newBuilder()
                .setKey(toProto(c.key()))
                .setRangeEnd(toProto(c.rangeEnd()))
                .setResult(switch (c.result()) {
                    case EQUAL -> Compare.CompareResult.EQUAL;
                    case GREATER -> Compare.CompareResult.GREATER;
                    case LESS -> Compare.CompareResult.LESS;
                    case NOT_EQUAL -> Compare.CompareResult.NOT_EQUAL;
                });
        switch (c.target()) {
            case VERSION -> b.setTarget(Compare.CompareTarget.VERSION).setVersion(c.number());
            case CREATE -> b.setTarget(Compare.CompareTarget.CREATE).setCreateRevision(c.number());
            case MOD -> b.setTarget(Compare.CompareTarget.MOD).setModRevision(c.number());
            case VALUE -> b.setTarget(Compare.CompareTarget.VALUE).setValue(toProto(c.value()));
            case LEASE -> b.setTarget(Compare.CompareTarget.LEASE).setLease(c.number());
        }
        return b.build();
    }

    // ---------------------------------------------------------------------------- ops and txn

    /** A {@code RequestOp} as the store's op; an unset op is etcd's "key not found". */
    public static io.raftkv.mvcc.RequestOp toMvcc(RequestOp op) {
        return switch (op.getRequestCase()) {
            case REQUEST_RANGE -> toMvcc(op.getRequestRange());
            case REQUEST_PUT -> toMvcc(op.getRequestPut());
            case REQUEST_DELETE_RANGE -> toMvcc(op.getRequestDeleteRange());
            case REQUEST_TXN -> toMvcc(op.getRequestTxn());
            case REQUEST_NOT_SET -> throw EtcdErrors.KEY_NOT_FOUND.exception();
        };
    }

    /** The store's op as a {@code RequestOp}. */
    public static RequestOp toProto(io.raftkv.mvcc.RequestOp op) {
        RequestOp.Builder b = RequestOp.newBuilder();
        if (op instanceof io.raftkv.mvcc.RangeRequest r) {
            b.setRequestRange(toProto(r));
        } else if (op instanceof io.raftkv.mvcc.PutRequest p) {
            b.setRequestPut(toProto(p));
        } else if (op instanceof io.raftkv.mvcc.DeleteRangeRequest d) {
            b.setRequestDeleteRange(toProto(d));
        } else {
            b.setRequestTxn(toProto((io.raftkv.mvcc.TxnRequest) op));
        }
        return b.build();
    }

    /** A {@code TxnRequest} as the store's transaction, recursively. */
    public static io.raftkv.mvcc.TxnRequest toMvcc(TxnRequest t) {
        List<io.raftkv.mvcc.Compare> compare = new ArrayList<>(t.getCompareCount());
        for (Compare c : t.getCompareList()) {
            compare.add(toMvcc(c));
        }
        return new io.raftkv.mvcc.TxnRequest(
                compare, opsToMvcc(t.getSuccessList()), opsToMvcc(t.getFailureList()));
    }

    private static List<io.raftkv.mvcc.RequestOp> opsToMvcc(List<RequestOp> ops) {
        List<io.raftkv.mvcc.RequestOp> out = new ArrayList<>(ops.size());
        for (RequestOp op : ops) {
            out.add(toMvcc(op));
        }
        return out;
    }

    /** The store's transaction as a {@code TxnRequest}, recursively. */
    public static TxnRequest toProto(io.raftkv.mvcc.TxnRequest t) {
        TxnRequest.Builder b = TxnRequest.newBuilder();
        for (io.raftkv.mvcc.Compare c : t.compare()) {
            b.addCompare(toProto(c));
        }
        for (io.raftkv.mvcc.RequestOp op : t.success()) {
            b.addSuccess(toProto(op));
        }
        for (io.raftkv.mvcc.RequestOp op : t.failure()) {
            b.addFailure(toProto(op));
        }
        return b.build();
    }

    /** The store's op result as a nested {@code ResponseOp}: its header holds only the revision. */
    public static ResponseOp toProto(io.raftkv.mvcc.ResponseOp r) {
        ResponseHeader h = nestedHeader(r.revision());
        ResponseOp.Builder b = ResponseOp.newBuilder();
        if (r instanceof io.raftkv.mvcc.RangeResponse range) {
            b.setResponseRange(rangeResponse(range, h));
        } else if (r instanceof io.raftkv.mvcc.PutResponse put) {
            b.setResponsePut(putResponse(put, h));
        } else if (r instanceof io.raftkv.mvcc.DeleteRangeResponse del) {
            b.setResponseDeleteRange(deleteResponse(del, h));
        } else {
            b.setResponseTxn(txnResponse((io.raftkv.mvcc.TxnResponse) r, h));
        }
        return b.build();
    }

    /** A {@code ResponseOp} as the store's result; an unset one is INVALID_ARGUMENT. */
    public static io.raftkv.mvcc.ResponseOp toMvcc(ResponseOp r) {
        return switch (r.getResponseCase()) {
            case RESPONSE_RANGE -> toMvcc(r.getResponseRange());
            case RESPONSE_PUT -> toMvcc(r.getResponsePut());
            case RESPONSE_DELETE_RANGE -> toMvcc(r.getResponseDeleteRange());
            case RESPONSE_TXN -> toMvcc(r.getResponseTxn());
            case RESPONSE_NOT_SET -> throw Status.INVALID_ARGUMENT
                    .withDescription("raftkv: response op has no response set")
                    .asRuntimeException();
        };
    }

    /** The store's txn result as a top-level response: {@code base}'s header, its revision. */
    public static TxnResponse toProto(io.raftkv.mvcc.TxnResponse r, ResponseHeader base) {
        return txnResponse(r, withRevision(base, r.revision()));
    }

    private static TxnResponse txnResponse(io.raftkv.mvcc.TxnResponse r, ResponseHeader h) {
        TxnResponse.Builder b = TxnResponse.newBuilder().setHeader(h).setSucceeded(r.succeeded());
        for (io.raftkv.mvcc.ResponseOp op : r.responses()) {
            b.addResponses(toProto(op));
        }
        return b.build();
    }

    /** A {@code TxnResponse} as the store's result, recursively; the revision is the header's. */
    public static io.raftkv.mvcc.TxnResponse toMvcc(TxnResponse r) {
        List<io.raftkv.mvcc.ResponseOp> responses = new ArrayList<>(r.getResponsesCount());
        for (ResponseOp op : r.getResponsesList()) {
            responses.add(toMvcc(op));
        }
        return new io.raftkv.mvcc.TxnResponse(
                r.getHeader().getRevision(), r.getSucceeded(), responses);
    }

    // ---------------------------------------------------------------------------- leases

    /** A granted lease as etcd's grant answer: ID and granted TTL, no error. */
    public static LeaseGrantResponse leaseGrant(io.raftkv.mvcc.Lease lease, ResponseHeader header) {
        return LeaseGrantResponse.newBuilder()
                .setHeader(header)
                .setID(lease.id())
                .setTTL(lease.ttlSeconds())
                .build();
    }

    /** A revoke result as a top-level response: {@code base}'s header, its revision. */
    public static LeaseRevokeResponse toProto(
            io.raftkv.mvcc.LeaseRevokeResponse r, ResponseHeader base) {
        return LeaseRevokeResponse.newBuilder().setHeader(withRevision(base, r.revision())).build();
    }

    /**
     * A time-to-live answer as etcd's response. {@code remainingTtlSeconds} is the TTL the lessor
     * reports now (the stored checkpoint is only a lower bound for the leader's clock); keys are
     * in the store's key order.
     */
    public static LeaseTimeToLiveResponse toProto(
            io.raftkv.mvcc.LeaseTimeToLive ttl, long remainingTtlSeconds, ResponseHeader header) {
        LeaseTimeToLiveResponse.Builder b = LeaseTimeToLiveResponse.newBuilder()
                .setHeader(header)
                .setID(ttl.lease().id())
                .setTTL(remainingTtlSeconds)
                .setGrantedTTL(ttl.lease().ttlSeconds());
        for (Bytes k : ttl.keys()) {
            b.addKeys(toProto(k));
        }
        return b.build();
    }

    /**
     * etcd's answer for a lease that does not exist: TTL -1 and the asked id (etcd reports a
     * missing lease this way, not as an error).
     */
    public static LeaseTimeToLiveResponse leaseTimeToLiveNotFound(long id, ResponseHeader header) {
        return LeaseTimeToLiveResponse.newBuilder().setHeader(header).setID(id).setTTL(-1).build();
    }

    // ---------------------------------------------------------------------------- errors

    /**
     * The gRPC error an etcd client expects for {@code error}: a store refusal becomes etcd's
     * error of the same kind (code and exact message); a gRPC status passes through; wrappers
     * ({@link CompletionException}, {@link ExecutionException}) are looked through; anything else
     * is INTERNAL with its message (or class name when it has none).
     */
    public static StatusRuntimeException toStatus(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof MvccException m) {
            return toEtcdError(m.code()).exception();
        }
        if (t instanceof StatusRuntimeException s) {
            return s;
        }
        if (t instanceof StatusException s) {
            return s.getStatus().asRuntimeException(s.getTrailers());
        }
        String message = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
        return Status.INTERNAL.withDescription(message).withCause(t).asRuntimeException();
    }

    /** The etcd error for a store refusal; total over the store's codes. */
    public static EtcdErrors toEtcdError(MvccException.Code code) {
        return switch (code) {
            case COMPACTED -> EtcdErrors.COMPACTED;
            case FUTURE_REV -> EtcdErrors.FUTURE_REV;
            case DUPLICATE_KEY -> EtcdErrors.DUPLICATE_KEY;
            case EMPTY_KEY -> EtcdErrors.EMPTY_KEY;
            case VALUE_PROVIDED -> EtcdErrors.VALUE_PROVIDED;
            case LEASE_PROVIDED -> EtcdErrors.LEASE_PROVIDED;
            case KEY_NOT_FOUND -> EtcdErrors.KEY_NOT_FOUND;
            case NO_SPACE -> EtcdErrors.NO_SPACE;
            case LEASE_NOT_FOUND -> EtcdErrors.LEASE_NOT_FOUND;
            case LEASE_EXISTS -> EtcdErrors.LEASE_EXISTS;
        };
    }

    private static StatusRuntimeException unknownEnum(String what, int number) {
        return Status.INVALID_ARGUMENT
                .withDescription("raftkv: unknown " + what + " " + number)
                .asRuntimeException();
    }

    // ---------------------------------------------------------------------------- validation

    /** etcd checkRangeRequest: the key must not be empty. Throws etcd's error, else returns. */
    public static void validate(RangeRequest r) {
        if (r.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.exception();
        }
    }

    /**
     * etcd checkPutRequest: the key must not be empty; ignore_value forbids a value and
     * ignore_lease a lease. Whether the key exists (for the ignore flags) is the store's check.
     */
    public static void validate(PutRequest p) {
        if (p.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.exception();
        }
        if (p.getIgnoreValue() && !p.getValue().isEmpty()) {
            throw EtcdErrors.VALUE_PROVIDED.exception();
        }
        if (p.getIgnoreLease() && p.getLease() != 0) {
            throw EtcdErrors.LEASE_PROVIDED.exception();
        }
    }

    /** etcd checkDeleteRequest: the key must not be empty. */
    public static void validate(DeleteRangeRequest d) {
        if (d.getKey().isEmpty()) {
            throw EtcdErrors.EMPTY_KEY.exception();
        }
    }

    /**
     * etcd's checks of a transaction before it is proposed, in etcd's order. First
     * checkTxnRequest: the longest of the compare, success and failure lists may not exceed
     * {@code maxTxnOps} (each list is measured on its own, not their sum), a nested transaction
     * only gets the ops left over by its parent ({@code maxTxnOps} minus that longest list);
     * compares need a key; each op passes its own check, an unset op is "key not found". Then
     * checkIntervals on each branch: etcd forbids one branch to put a key twice or to put a key
     * it also deletes ("etcd: Txn may not modify one key twice"), see {@link #checkIntervals}.
     */
    public static void validate(TxnRequest t, int maxTxnOps) {
        checkTxnShape(t, maxTxnOps);
        checkIntervals(t.getSuccessList());
        checkIntervals(t.getFailureList());
    }

    private static void checkTxnShape(TxnRequest t, int maxTxnOps) {
        int opc = Math.max(t.getCompareCount(), Math.max(t.getSuccessCount(), t.getFailureCount()));
        if (opc > maxTxnOps) {
            throw EtcdErrors.TOO_MANY_OPS.exception();
        }
        for (Compare c : t.getCompareList()) {
            if (c.getKey().isEmpty()) {
                throw EtcdErrors.EMPTY_KEY.exception();
            }
        }
        for (List<RequestOp> branch : List.of(t.getSuccessList(), t.getFailureList())) {
            for (RequestOp op : branch) {
                switch (op.getRequestCase()) {
                    case REQUEST_RANGE -> validate(op.getRequestRange());
                    case REQUEST_PUT -> validate(op.getRequestPut());
                    case REQUEST_DELETE_RANGE -> validate(op.getRequestDeleteRange());
                    case REQUEST_TXN -> checkTxnShape(op.getRequestTxn(), maxTxnOps - opc);
                    case REQUEST_NOT_SET -> throw EtcdErrors.KEY_NOT_FOUND.exception();
                }
            }
        }
    }

    /**
     * A deleted range as etcd's checkIntervals sees it: {@code [start, end)} compared as plain
     * byte strings, a single key when {@code point}. etcd builds it as a string interval in
     * which only the empty string is unbounded, so an end of {@code "\0"} ("to the end") makes
     * an inverted interval that still covers its own start key and no other key. The store keeps
     * the same quirk; this check must agree with it, or a txn accepted here would be refused at
     * apply time (or the reverse).
     */
    private record Interval(ByteString start, ByteString end, boolean point) {
        boolean contains(ByteString k) {
            if (start.equals(k)) {
                return true;
            }
            return !point && KEY_ORDER.compare(start, k) < 0 && KEY_ORDER.compare(k, end) < 0;
        }
    }

    private record Writes(Set<ByteString> puts, List<Interval> dels) {}

    /**
     * etcd checkIntervals over one branch: no key put twice; a put at this level may not fall in
     * a range deleted at this level or in a nested txn; a put in a nested txn may not fall in a
     * range deleted at this level or in an earlier nested txn; the success and failure branches
     * of a nested txn may put the same key, since only one of them runs.
     */
    private static Writes checkIntervals(List<RequestOp> ops) {
        List<Interval> dels = new ArrayList<>();
        for (RequestOp op : ops) {
            if (op.hasRequestDeleteRange()) {
                DeleteRangeRequest d = op.getRequestDeleteRange();
                dels.add(new Interval(d.getKey(), d.getRangeEnd(), d.getRangeEnd().isEmpty()));
            }
        }
        Set<ByteString> puts = new HashSet<>();
        for (RequestOp op : ops) {
            if (!op.hasRequestTxn()) {
                continue;
            }
            Writes then = checkIntervals(op.getRequestTxn().getSuccessList());
            Writes otherwise = checkIntervals(op.getRequestTxn().getFailureList());
            for (ByteString k : then.puts()) {
                if (puts.contains(k) || deleted(dels, k)) {
                    throw EtcdErrors.DUPLICATE_KEY.exception();
                }
                puts.add(k);
            }
            for (ByteString k : otherwise.puts()) {
                if ((puts.contains(k) && !then.puts().contains(k)) || deleted(dels, k)) {
                    throw EtcdErrors.DUPLICATE_KEY.exception();
                }
                puts.add(k);
            }
            dels.addAll(then.dels());
            dels.addAll(otherwise.dels());
        }
        for (RequestOp op : ops) {
            if (op.hasRequestPut()) {
                ByteString k = op.getRequestPut().getKey();
                if (puts.contains(k) || deleted(dels, k)) {
                    throw EtcdErrors.DUPLICATE_KEY.exception();
                }
                puts.add(k);
            }
        }
        return new Writes(puts, dels);
    }

    private static boolean deleted(List<Interval> dels, ByteString k) {
        for (Interval iv : dels) {
            if (iv.contains(k)) {
                return true;
            }
        }
        return false;
    }
}
