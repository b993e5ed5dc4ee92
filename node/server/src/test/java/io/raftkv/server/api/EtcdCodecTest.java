package io.raftkv.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.MvccException;
import io.raftkv.mvcc.RocksDbKvStore;
import io.raftkv.server.api.etcd.Compare;
import io.raftkv.server.api.etcd.DeleteRangeRequest;
import io.raftkv.server.api.etcd.DeleteRangeResponse;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EtcdCodecTest {

    private static final ResponseHeader BASE = EtcdCodec.header(0xfeedL, -2L, 0, 7);

    private static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static Bytes b(String s) {
        return Bytes.of(s);
    }

    private static io.raftkv.mvcc.KeyValue kv(String key, long create, long mod, long version,
            String value, long lease) {
        return new io.raftkv.mvcc.KeyValue(b(key), create, mod, version, b(value), lease);
    }

    private static StatusRuntimeException statusOf(Runnable r) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, r::run);
        assertThat(e).as("expected a StatusRuntimeException").isNotNull();
        return e;
    }

    private static void assertEtcdError(Runnable r, EtcdErrors expected) {
        StatusRuntimeException e = statusOf(r);
        assertThat(e.getStatus().getCode()).isEqualTo(expected.code());
        assertThat(e.getStatus().getDescription()).isEqualTo(expected.message());
    }

    private static RequestOp put(String key) {
        return RequestOp.newBuilder()
                .setRequestPut(PutRequest.newBuilder().setKey(bs(key)).setValue(bs("v")))
                .build();
    }

    private static RequestOp get(String key) {
        return RequestOp.newBuilder()
                .setRequestRange(RangeRequest.newBuilder().setKey(bs(key)))
                .build();
    }

    private static RequestOp del(String key, String end) {
        return RequestOp.newBuilder()
                .setRequestDeleteRange(
                        DeleteRangeRequest.newBuilder().setKey(bs(key)).setRangeEnd(bs(end)))
                .build();
    }

    private static RequestOp txn(List<RequestOp> success, List<RequestOp> failure) {
        return RequestOp.newBuilder()
                .setRequestTxn(TxnRequest.newBuilder().addAllSuccess(success).addAllFailure(failure))
                .build();
    }

    private static TxnRequest branch(RequestOp... success) {
        return TxnRequest.newBuilder().addAllSuccess(List.of(success)).build();
    }

    // ------------------------------------------------------------------------ header, bytes, kv

    @Test
    void headerCarriesEveryFieldAndUnsignedIdsKeepTheirBits() {
        ResponseHeader h = EtcdCodec.header(-1L, 0x8000_0000_0000_0001L, 42, 3);
        assertThat(h.getClusterId()).isEqualTo(-1L);
        assertThat(Long.toUnsignedString(h.getClusterId())).isEqualTo("18446744073709551615");
        assertThat(h.getMemberId()).isEqualTo(0x8000_0000_0000_0001L);
        assertThat(h.getRevision()).isEqualTo(42);
        assertThat(h.getRaftTerm()).isEqualTo(3);
    }

    @Test
    void bytesRoundTripKeepEveryByteIncludingHighAndZeroBytes() {
        byte[] raw = {0, 1, (byte) 0x7f, (byte) 0x80, (byte) 0xff};
        Bytes mvcc = EtcdCodec.toMvcc(ByteString.copyFrom(raw));
        assertThat(mvcc.toByteArray()).containsExactly(raw);
        assertThat(EtcdCodec.toProto(mvcc).toByteArray()).containsExactly(raw);
        assertThat(EtcdCodec.toMvcc(ByteString.EMPTY)).isSameAs(Bytes.EMPTY);
        assertThat(EtcdCodec.toProto(Bytes.EMPTY)).isSameAs(ByteString.EMPTY);
    }

    @Test
    void protoBytesDoNotAliasTheStoreBytes() {
        Bytes mvcc = b("abc");
        ByteString proto = EtcdCodec.toProto(mvcc);
        byte[] copy = proto.toByteArray();
        copy[0] = 'x';
        assertThat(mvcc).isEqualTo(b("abc"));
        assertThat(proto).isEqualTo(bs("abc"));
    }

    @Test
    void keyValueConvertsFieldByField() {
        KeyValue proto = EtcdCodec.toProto(kv("k", 2, 5, 3, "val", 99));
        assertThat(proto.getKey()).isEqualTo(bs("k"));
        assertThat(proto.getCreateRevision()).isEqualTo(2);
        assertThat(proto.getModRevision()).isEqualTo(5);
        assertThat(proto.getVersion()).isEqualTo(3);
        assertThat(proto.getValue()).isEqualTo(bs("val"));
        assertThat(proto.getLease()).isEqualTo(99);
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(kv("k", 2, 5, 3, "val", 99));
    }

    // ------------------------------------------------------------------------ events

    @Test
    void putEventWithPrevKvRoundTrips() {
        io.raftkv.mvcc.Event e = new io.raftkv.mvcc.Event(io.raftkv.mvcc.Event.Type.PUT,
                kv("k", 2, 6, 2, "new", 0), Optional.of(kv("k", 2, 2, 1, "old", 0)));
        Event proto = EtcdCodec.toProto(e);
        assertThat(proto.getType()).isEqualTo(Event.EventType.PUT);
        assertThat(proto.getKv().getValue()).isEqualTo(bs("new"));
        assertThat(proto.hasPrevKv()).isTrue();
        assertThat(proto.getPrevKv().getValue()).isEqualTo(bs("old"));
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(e);
    }

    @Test
    void deleteEventWithoutPrevKvSendsNoPrevKv() {
        io.raftkv.mvcc.Event e = new io.raftkv.mvcc.Event(io.raftkv.mvcc.Event.Type.DELETE,
                kv("k", 0, 7, 0, "", 0), Optional.empty());
        Event proto = EtcdCodec.toProto(e);
        assertThat(proto.getType()).isEqualTo(Event.EventType.DELETE);
        assertThat(proto.hasPrevKv()).isFalse();
        assertThat(proto.getKv().getModRevision()).isEqualTo(7);
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(e);
    }

    @Test
    void unknownEventTypeIsInvalidArgument() {
        Event proto = Event.newBuilder().setTypeValue(9).build();
        assertThat(statusOf(() -> EtcdCodec.toMvcc(proto)).getStatus().getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    // ------------------------------------------------------------------------ range

    @Test
    void rangeRequestConvertsEveryField() {
        RangeRequest proto = RangeRequest.newBuilder()
                .setKey(bs("a")).setRangeEnd(bs("z")).setLimit(10).setRevision(4)
                .setSortOrder(RangeRequest.SortOrder.DESCEND)
                .setSortTarget(RangeRequest.SortTarget.MOD)
                .setKeysOnly(true).setCountOnly(true)
                .setMinModRevision(1).setMaxModRevision(2)
                .setMinCreateRevision(3).setMaxCreateRevision(5)
                .build();
        io.raftkv.mvcc.RangeRequest r = EtcdCodec.toMvcc(proto);
        assertThat(r).isEqualTo(new io.raftkv.mvcc.RangeRequest(b("a"), b("z"), 4, 10, true, true,
                io.raftkv.mvcc.RangeRequest.SortOrder.DESCEND,
                io.raftkv.mvcc.RangeRequest.SortTarget.MOD, 1, 2, 3, 5));
        assertThat(EtcdCodec.toProto(r)).isEqualTo(proto);
    }

    @ParameterizedTest
    @EnumSource(io.raftkv.mvcc.RangeRequest.SortOrder.class)
    void everySortOrderRoundTrips(io.raftkv.mvcc.RangeRequest.SortOrder order) {
        for (io.raftkv.mvcc.RangeRequest.SortTarget target
                : io.raftkv.mvcc.RangeRequest.SortTarget.values()) {
            io.raftkv.mvcc.RangeRequest r = io.raftkv.mvcc.RangeRequest.key(b("k"))
                    .sortedBy(target, order);
            RangeRequest proto = EtcdCodec.toProto(r);
            assertThat(proto.getSortOrder().name()).isEqualTo(order.name());
            assertThat(proto.getSortTarget().name()).isEqualTo(target.name());
            assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(r);
        }
    }

    @Test
    void serializableIsNotCarriedIntoTheStoreRequest() {
        RangeRequest proto = RangeRequest.newBuilder().setKey(bs("k")).setSerializable(true).build();
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(io.raftkv.mvcc.RangeRequest.key(b("k")));
        assertThat(EtcdCodec.toProto(EtcdCodec.toMvcc(proto)).getSerializable()).isFalse();
    }

    @Test
    void unknownSortOrderOrTargetIsInvalidArgument() {
        RangeRequest badOrder = RangeRequest.newBuilder().setKey(bs("k")).setSortOrderValue(7).build();
        RangeRequest badTarget =
                RangeRequest.newBuilder().setKey(bs("k")).setSortTargetValue(7).build();
        assertThat(statusOf(() -> EtcdCodec.toMvcc(badOrder)).getStatus().getDescription())
                .contains("sort order 7");
        assertThat(statusOf(() -> EtcdCodec.toMvcc(badTarget)).getStatus().getDescription())
                .contains("sort target 7");
    }

    @Test
    void rangeResponseCarriesKvsMoreCountAndTheBaseHeaderWithItsRevision() {
        io.raftkv.mvcc.RangeResponse r = new io.raftkv.mvcc.RangeResponse(
                12, List.of(kv("a", 1, 1, 1, "x", 0), kv("b", 2, 3, 2, "y", 5)), true, 7);
        RangeResponse proto = EtcdCodec.toProto(r, BASE);
        assertThat(proto.getHeader()).isEqualTo(EtcdCodec.header(0xfeedL, -2L, 12, 7));
        assertThat(proto.getKvsList()).extracting(KeyValue::getKey).containsExactly(bs("a"), bs("b"));
        assertThat(proto.getMore()).isTrue();
        assertThat(proto.getCount()).isEqualTo(7);
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(r);
    }

    // ------------------------------------------------------------------------ put, delete

    @Test
    void putRequestConvertsEveryField() {
        PutRequest proto = PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v")).setLease(77)
                .setPrevKv(true).setIgnoreValue(true).setIgnoreLease(true).build();
        io.raftkv.mvcc.PutRequest p = EtcdCodec.toMvcc(proto);
        assertThat(p).isEqualTo(new io.raftkv.mvcc.PutRequest(b("k"), b("v"), 77, true, true, true));
        assertThat(EtcdCodec.toProto(p)).isEqualTo(proto);
    }

    @Test
    void putResponseSendsPrevKvOnlyWhenPresent() {
        io.raftkv.mvcc.PutResponse with =
                new io.raftkv.mvcc.PutResponse(9, Optional.of(kv("k", 1, 1, 1, "old", 0)));
        io.raftkv.mvcc.PutResponse without = new io.raftkv.mvcc.PutResponse(9, Optional.empty());
        PutResponse p1 = EtcdCodec.toProto(with, BASE);
        PutResponse p2 = EtcdCodec.toProto(without, BASE);
        assertThat(p1.getHeader().getRevision()).isEqualTo(9);
        assertThat(p1.getHeader().getMemberId()).isEqualTo(-2L);
        assertThat(p1.getPrevKv().getValue()).isEqualTo(bs("old"));
        assertThat(p2.hasPrevKv()).isFalse();
        assertThat(EtcdCodec.toMvcc(p1)).isEqualTo(with);
        assertThat(EtcdCodec.toMvcc(p2)).isEqualTo(without);
    }

    @Test
    void deleteRangeRequestConvertsEveryField() {
        DeleteRangeRequest proto = DeleteRangeRequest.newBuilder()
                .setKey(bs("a")).setRangeEnd(bs("\0")).setPrevKv(true).build();
        io.raftkv.mvcc.DeleteRangeRequest d = EtcdCodec.toMvcc(proto);
        assertThat(d).isEqualTo(new io.raftkv.mvcc.DeleteRangeRequest(b("a"), Bytes.NUL, true));
        assertThat(EtcdCodec.toProto(d)).isEqualTo(proto);
    }

    @Test
    void deleteRangeResponseCarriesDeletedAndPrevKvs() {
        io.raftkv.mvcc.DeleteRangeResponse r = new io.raftkv.mvcc.DeleteRangeResponse(
                4, 2, List.of(kv("a", 1, 1, 1, "x", 0), kv("b", 2, 2, 1, "y", 0)));
        DeleteRangeResponse proto = EtcdCodec.toProto(r, BASE);
        assertThat(proto.getHeader().getRevision()).isEqualTo(4);
        assertThat(proto.getDeleted()).isEqualTo(2);
        assertThat(proto.getPrevKvsCount()).isEqualTo(2);
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(r);
    }

    // ------------------------------------------------------------------------ compare

    @ParameterizedTest
    @EnumSource(io.raftkv.mvcc.Compare.Target.class)
    void everyCompareTargetAndResultRoundTrips(io.raftkv.mvcc.Compare.Target target) {
        for (io.raftkv.mvcc.Compare.Result result : io.raftkv.mvcc.Compare.Result.values()) {
            io.raftkv.mvcc.Compare c = target == io.raftkv.mvcc.Compare.Target.VALUE
                    ? new io.raftkv.mvcc.Compare(b("k"), b("z"), target, result, 0, b("v"))
                    : new io.raftkv.mvcc.Compare(b("k"), b("z"), target, result, 41, Bytes.EMPTY);
            Compare proto = EtcdCodec.toProto(c);
            assertThat(proto.getTarget().name()).isEqualTo(target.name());
            assertThat(proto.getResult().name()).isEqualTo(result.name());
            assertThat(proto.getRangeEnd()).isEqualTo(bs("z"));
            assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(c);
        }
    }

    @Test
    void compareOperandGoesInTheUnionFieldOfItsTarget() {
        assertThat(EtcdCodec.toProto(io.raftkv.mvcc.Compare.version(
                b("k"), io.raftkv.mvcc.Compare.Result.EQUAL, 3)).getVersion()).isEqualTo(3);
        assertThat(EtcdCodec.toProto(io.raftkv.mvcc.Compare.createRevision(
                b("k"), io.raftkv.mvcc.Compare.Result.EQUAL, 4)).getTargetUnionCase())
                .isEqualTo(Compare.TargetUnionCase.CREATE_REVISION);
        assertThat(EtcdCodec.toProto(io.raftkv.mvcc.Compare.modRevision(
                b("k"), io.raftkv.mvcc.Compare.Result.EQUAL, 5)).getModRevision()).isEqualTo(5);
        assertThat(EtcdCodec.toProto(io.raftkv.mvcc.Compare.value(
                b("k"), io.raftkv.mvcc.Compare.Result.EQUAL, b("x"))).getValue()).isEqualTo(bs("x"));
        assertThat(EtcdCodec.toProto(io.raftkv.mvcc.Compare.lease(
                b("k"), io.raftkv.mvcc.Compare.Result.EQUAL, 6)).getLease()).isEqualTo(6);
    }

    @Test
    void compareWithTheWrongUnionFieldComparesAgainstZeroAsEtcdDoes() {
        Compare modButVersionSet = Compare.newBuilder().setKey(bs("k"))
                .setTarget(Compare.CompareTarget.MOD).setVersion(9).build();
        Compare valueButLeaseSet = Compare.newBuilder().setKey(bs("k"))
                .setTarget(Compare.CompareTarget.VALUE).setLease(9).build();
        assertThat(EtcdCodec.toMvcc(modButVersionSet).number()).isZero();
        assertThat(EtcdCodec.toMvcc(valueButLeaseSet).value()).isEqualTo(Bytes.EMPTY);
        assertThat(EtcdCodec.toMvcc(valueButLeaseSet).number()).isZero();
    }

    @Test
    void unknownCompareTargetOrResultIsInvalidArgument() {
        Compare badTarget = Compare.newBuilder().setKey(bs("k")).setTargetValue(12).build();
        Compare badResult = Compare.newBuilder().setKey(bs("k")).setResultValue(12).build();
        assertThat(statusOf(() -> EtcdCodec.toMvcc(badTarget)).getStatus().getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(statusOf(() -> EtcdCodec.toMvcc(badResult)).getStatus().getDescription())
                .contains("compare result 12");
    }

    // ------------------------------------------------------------------------ txn

    @Test
    void nestedTxnWithRangePutDeleteAndCompareRoundTrips() {
        io.raftkv.mvcc.TxnRequest inner = new io.raftkv.mvcc.TxnRequest(
                List.of(io.raftkv.mvcc.Compare.value(b("a"), io.raftkv.mvcc.Compare.Result.LESS,
                        b("q")).overRange(b("b"))),
                List.of(io.raftkv.mvcc.RangeRequest.prefix(b("p")).withLimit(3)),
                List.of(io.raftkv.mvcc.DeleteRangeRequest.key(b("d")).withPrevKv()));
        io.raftkv.mvcc.TxnRequest t = new io.raftkv.mvcc.TxnRequest(
                List.of(io.raftkv.mvcc.Compare.modRevision(b("m"),
                        io.raftkv.mvcc.Compare.Result.GREATER, 2)),
                List.of(io.raftkv.mvcc.PutRequest.of(b("x"), b("1"), 5).withPrevKv(), inner,
                        io.raftkv.mvcc.RangeRequest.key(b("x"))),
                List.of(io.raftkv.mvcc.RangeRequest.all().withCountOnly(true)));
        TxnRequest proto = EtcdCodec.toProto(t);
        assertThat(proto.getSuccess(1).getRequestTxn().getCompare(0).getRangeEnd())
                .isEqualTo(bs("b"));
        assertThat(proto.getSuccess(2).hasRequestRange()).isTrue();
        assertThat(proto.getFailure(0).getRequestRange().getCountOnly()).isTrue();
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(t);
        assertThat(EtcdCodec.toProto(EtcdCodec.toMvcc(proto))).isEqualTo(proto);
    }

    @Test
    void unsetRequestOpIsEtcdKeyNotFound() {
        TxnRequest proto = TxnRequest.newBuilder().addSuccess(RequestOp.getDefaultInstance()).build();
        assertEtcdError(() -> EtcdCodec.toMvcc(proto), EtcdErrors.KEY_NOT_FOUND);
    }

    @Test
    void txnResponseTopHeaderIsFullAndNestedHeadersHoldOnlyTheRevision() {
        io.raftkv.mvcc.TxnResponse nested = new io.raftkv.mvcc.TxnResponse(8, false, List.of(
                new io.raftkv.mvcc.DeleteRangeResponse(8, 1, List.of())));
        io.raftkv.mvcc.TxnResponse r = new io.raftkv.mvcc.TxnResponse(8, true, List.of(
                new io.raftkv.mvcc.RangeResponse(8, List.of(kv("a", 1, 1, 1, "x", 0)), false, 1),
                new io.raftkv.mvcc.PutResponse(8, Optional.empty()),
                nested));
        TxnResponse proto = EtcdCodec.toProto(r, BASE);
        assertThat(proto.getHeader()).isEqualTo(EtcdCodec.header(0xfeedL, -2L, 8, 7));
        assertThat(proto.getSucceeded()).isTrue();
        assertThat(proto.getResponsesList()).extracting(ResponseOp::getResponseCase).containsExactly(
                ResponseOp.ResponseCase.RESPONSE_RANGE, ResponseOp.ResponseCase.RESPONSE_PUT,
                ResponseOp.ResponseCase.RESPONSE_TXN);
        assertThat(proto.getResponses(0).getResponseRange().getHeader())
                .isEqualTo(ResponseHeader.newBuilder().setRevision(8).build());
        TxnResponse inner = proto.getResponses(2).getResponseTxn();
        assertThat(inner.getSucceeded()).isFalse();
        assertThat(inner.getHeader().getClusterId()).isZero();
        assertThat(inner.getResponses(0).getResponseDeleteRange().getDeleted()).isEqualTo(1);
        assertThat(EtcdCodec.toMvcc(proto)).isEqualTo(r);
    }

    @Test
    void unsetResponseOpIsInvalidArgument() {
        TxnResponse proto =
                TxnResponse.newBuilder().addResponses(ResponseOp.getDefaultInstance()).build();
        assertThat(statusOf(() -> EtcdCodec.toMvcc(proto)).getStatus().getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    // ------------------------------------------------------------------------ leases

    @Test
    void leaseResponsesCarryIdTtlsKeysAndHeaders() {
        io.raftkv.mvcc.Lease lease = new io.raftkv.mvcc.Lease(0x1234, 60, 45);
        assertThat(EtcdCodec.leaseGrant(lease, BASE).getID()).isEqualTo(0x1234);
        assertThat(EtcdCodec.leaseGrant(lease, BASE).getTTL()).isEqualTo(60);
        assertThat(EtcdCodec.leaseGrant(lease, BASE).getError()).isEmpty();
        assertThat(EtcdCodec.toProto(new io.raftkv.mvcc.LeaseRevokeResponse(13, 2), BASE)
                .getHeader().getRevision()).isEqualTo(13);
        LeaseTimeToLiveResponse ttl = EtcdCodec.toProto(
                new io.raftkv.mvcc.LeaseTimeToLive(lease, List.of(b("a"), b("b"))), 40, BASE);
        assertThat(ttl.getID()).isEqualTo(0x1234);
        assertThat(ttl.getTTL()).isEqualTo(40);
        assertThat(ttl.getGrantedTTL()).isEqualTo(60);
        assertThat(ttl.getKeysList()).containsExactly(bs("a"), bs("b"));
        LeaseTimeToLiveResponse missing = EtcdCodec.leaseTimeToLiveNotFound(5, BASE);
        assertThat(missing.getTTL()).isEqualTo(-1);
        assertThat(missing.getID()).isEqualTo(5);
    }

    // ------------------------------------------------------------------------ errors

    @ParameterizedTest
    @EnumSource(MvccException.Code.class)
    void everyStoreRefusalMapsToTheEtcdErrorOfTheSameName(MvccException.Code code) {
        EtcdErrors expected = EtcdErrors.valueOf(code.name());
        StatusRuntimeException e = EtcdCodec.toStatus(new MvccException(code));
        assertThat(e.getStatus().getCode()).isEqualTo(expected.code());
        assertThat(e.getStatus().getDescription()).isEqualTo(expected.message());
        assertThat(e.getStatus().getDescription()).isEqualTo(code.message());
    }

    @Test
    void storeRefusalsUseEtcdsGrpcCodes() {
        assertThat(EtcdCodec.toStatus(new MvccException(MvccException.Code.COMPACTED))
                .getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
        assertThat(EtcdCodec.toStatus(new MvccException(MvccException.Code.NO_SPACE))
                .getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(EtcdCodec.toStatus(new MvccException(MvccException.Code.LEASE_NOT_FOUND))
                .getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(EtcdCodec.toStatus(new MvccException(MvccException.Code.LEASE_EXISTS))
                .getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    }

    @Test
    void wrappedRefusalsAreUnwrapped() {
        MvccException cause = new MvccException(MvccException.Code.FUTURE_REV);
        assertThat(EtcdCodec.toStatus(new CompletionException(cause)).getStatus().getDescription())
                .isEqualTo(EtcdErrors.FUTURE_REV.message());
        assertThat(EtcdCodec.toStatus(new ExecutionException(new CompletionException(cause)))
                .getStatus().getDescription()).isEqualTo(EtcdErrors.FUTURE_REV.message());
    }

    @Test
    void grpcStatusesPassThrough() {
        StatusRuntimeException noLeader = EtcdErrors.NO_LEADER.exception();
        assertThat(EtcdCodec.toStatus(noLeader)).isSameAs(noLeader);
        Metadata trailers = new Metadata();
        StatusRuntimeException e = EtcdCodec.toStatus(
                Status.UNAVAILABLE.withDescription("x").asException(trailers));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).isEqualTo("x");
    }

    @Test
    void anythingElseIsInternalWithItsMessage() {
        StatusRuntimeException e = EtcdCodec.toStatus(new IllegalStateException("disk on fire"));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(e.getStatus().getDescription()).isEqualTo("disk on fire");
        assertThat(EtcdCodec.toStatus(new NullPointerException()).getStatus().getDescription())
                .isEqualTo("java.lang.NullPointerException");
    }

    // ------------------------------------------------------------------------ validation

    @Test
    void emptyKeysAreRefusedOnRangePutAndDelete() {
        assertEtcdError(() -> EtcdCodec.validate(RangeRequest.getDefaultInstance()),
                EtcdErrors.EMPTY_KEY);
        assertEtcdError(() -> EtcdCodec.validate(PutRequest.newBuilder().setValue(bs("v")).build()),
                EtcdErrors.EMPTY_KEY);
        assertEtcdError(() -> EtcdCodec.validate(DeleteRangeRequest.getDefaultInstance()),
                EtcdErrors.EMPTY_KEY);
        assertThatCode(() -> EtcdCodec.validate(RangeRequest.newBuilder().setKey(bs("k")).build()))
                .doesNotThrowAnyException();
    }

    @Test
    void ignoreValueAndIgnoreLeaseForbidAValueAndALease() {
        assertEtcdError(() -> EtcdCodec.validate(PutRequest.newBuilder().setKey(bs("k"))
                .setIgnoreValue(true).setValue(bs("v")).build()), EtcdErrors.VALUE_PROVIDED);
        assertEtcdError(() -> EtcdCodec.validate(PutRequest.newBuilder().setKey(bs("k"))
                .setIgnoreLease(true).setLease(3).build()), EtcdErrors.LEASE_PROVIDED);
        assertThatCode(() -> EtcdCodec.validate(PutRequest.newBuilder().setKey(bs("k"))
                .setIgnoreValue(true).setIgnoreLease(true).build())).doesNotThrowAnyException();
    }

    private static TxnRequest.Builder withOps(int compares, int success, int failure) {
        TxnRequest.Builder t = TxnRequest.newBuilder();
        for (int i = 0; i < compares; i++) {
            t.addCompare(Compare.newBuilder().setKey(bs("c" + i)));
        }
        for (int i = 0; i < success; i++) {
            t.addSuccess(get("s" + i));
        }
        for (int i = 0; i < failure; i++) {
            t.addFailure(get("f" + i));
        }
        return t;
    }

    @Test
    void eachTxnListIsMeasuredAgainstMaxTxnOpsOnItsOwn() {
        assertThatCode(() -> EtcdCodec.validate(withOps(128, 128, 128).build(), 128))
                .doesNotThrowAnyException();
        assertEtcdError(() -> EtcdCodec.validate(withOps(129, 0, 0).build(), 128),
                EtcdErrors.TOO_MANY_OPS);
        assertEtcdError(() -> EtcdCodec.validate(withOps(0, 129, 0).build(), 128),
                EtcdErrors.TOO_MANY_OPS);
        assertEtcdError(() -> EtcdCodec.validate(withOps(0, 0, 129).build(), 128),
                EtcdErrors.TOO_MANY_OPS);
    }

    @Test
    void nestedTxnGetsOnlyTheOpsItsParentLeftOver() {
        // Parent's longest list is 2, so with a limit of 4 the nested txn may have 2 ops, not 3.
        TxnRequest fits = TxnRequest.newBuilder()
                .addSuccess(get("a"))
                .addSuccess(txn(List.of(get("x"), get("y")), List.of()))
                .build();
        TxnRequest tooBig = TxnRequest.newBuilder()
                .addSuccess(get("a"))
                .addSuccess(txn(List.of(get("x"), get("y"), get("z")), List.of()))
                .build();
        assertThatCode(() -> EtcdCodec.validate(fits, 4)).doesNotThrowAnyException();
        assertEtcdError(() -> EtcdCodec.validate(tooBig, 4), EtcdErrors.TOO_MANY_OPS);
    }

    @Test
    void txnChecksCompareKeysAndEveryOpRecursively() {
        assertEtcdError(() -> EtcdCodec.validate(TxnRequest.newBuilder()
                .addCompare(Compare.getDefaultInstance()).build(), 128), EtcdErrors.EMPTY_KEY);
        assertEtcdError(() -> EtcdCodec.validate(branch(get("")), 128), EtcdErrors.EMPTY_KEY);
        assertEtcdError(() -> EtcdCodec.validate(branch(del("", "")), 128), EtcdErrors.EMPTY_KEY);
        assertEtcdError(() -> EtcdCodec.validate(branch(txn(List.of(), List.of(put("")))), 128),
                EtcdErrors.EMPTY_KEY);
        RequestOp valueProvided = RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                .setKey(bs("k")).setValue(bs("v")).setIgnoreValue(true)).build();
        assertEtcdError(() -> EtcdCodec.validate(branch(valueProvided), 128),
                EtcdErrors.VALUE_PROVIDED);
        assertEtcdError(() -> EtcdCodec.validate(TxnRequest.newBuilder()
                .addFailure(RequestOp.getDefaultInstance()).build(), 128),
                EtcdErrors.KEY_NOT_FOUND);
    }

    @Test
    void tooManyOpsIsReportedBeforeAnEmptyKey() {
        TxnRequest t = withOps(0, 3, 0).addCompare(Compare.getDefaultInstance()).build();
        assertEtcdError(() -> EtcdCodec.validate(t, 2), EtcdErrors.TOO_MANY_OPS);
    }

    @Test
    void oneBranchMayNotPutAKeyTwiceOrPutAKeyItDeletes() {
        assertEtcdError(() -> EtcdCodec.validate(branch(put("a"), put("a")), 128),
                EtcdErrors.DUPLICATE_KEY);
        assertEtcdError(() -> EtcdCodec.validate(branch(del("a", "c"), put("b")), 128),
                EtcdErrors.DUPLICATE_KEY);
        assertEtcdError(() -> EtcdCodec.validate(branch(put("a"), del("a", "")), 128),
                EtcdErrors.DUPLICATE_KEY);
        assertEtcdError(() -> EtcdCodec.validate(
                branch(put("a"), txn(List.of(put("a")), List.of())), 128), EtcdErrors.DUPLICATE_KEY);
        assertEtcdError(() -> EtcdCodec.validate(
                branch(del("a", "z"), txn(List.of(), List.of(put("m")))), 128),
                EtcdErrors.DUPLICATE_KEY);
        assertEtcdError(() -> EtcdCodec.validate(
                branch(txn(List.of(del("a", "z")), List.of()), put("m")), 128),
                EtcdErrors.DUPLICATE_KEY);
    }

    @Test
    void writesThatEtcdAllowsInOneTxnPass() {
        List<TxnRequest> allowed = List.of(
                // Different branches never run together.
                TxnRequest.newBuilder().addSuccess(put("a")).addFailure(put("a")).build(),
                // Reads and puts of one key, and deletes of one key twice, are fine.
                branch(get("a"), put("a"), get("a")),
                branch(del("a", ""), del("a", "")),
                // A put just outside a deleted range.
                branch(del("a", "c"), put("c")),
                // The nested txn's success and failure may put the same key.
                branch(txn(List.of(put("a")), List.of(put("a")))),
                // etcd's "\0" quirk: a delete to the end covers only its own start key.
                branch(del("a", "\0"), put("b")));
        for (TxnRequest t : allowed) {
            assertThatCode(() -> EtcdCodec.validate(t, 128)).as(t.toString())
                    .doesNotThrowAnyException();
        }
        assertEtcdError(() -> EtcdCodec.validate(branch(del("a", "\0"), put("a")), 128),
                EtcdErrors.DUPLICATE_KEY);
    }

    /**
     * The duplicate-key check runs twice: here before proposing and in the store at apply time.
     * If they disagreed, a client would see a txn accepted and then refused (or the reverse).
     */
    @Test
    void duplicateKeyCheckAgreesWithTheStore(@TempDir Path dir) {
        List<TxnRequest> cases = new ArrayList<>();
        String[] keys = {"a", "b", "c"};
        for (String k1 : keys) {
            for (String k2 : keys) {
                cases.add(branch(put(k1), put(k2)));
                cases.add(branch(del(k1, "b"), put(k2)));
                cases.add(branch(del(k1, "\0"), put(k2)));
                cases.add(branch(del(k1, ""), txn(List.of(put(k2)), List.of())));
                cases.add(branch(txn(List.of(del(k1, "c")), List.of(put(k1))), put(k2)));
                cases.add(branch(put(k1), txn(List.of(put(k2)), List.of(put(k1)))));
                cases.add(branch(txn(List.of(put(k1)), List.of()), txn(List.of(), List.of(put(k2)))));
            }
        }
        try (RocksDbKvStore store = RocksDbKvStore.open(dir)) {
            long index = 1;
            for (TxnRequest t : cases) {
                boolean codecRefuses;
                try {
                    EtcdCodec.validate(t, 128);
                    codecRefuses = false;
                } catch (StatusRuntimeException e) {
                    assertThat(e.getStatus().getDescription())
                            .isEqualTo(EtcdErrors.DUPLICATE_KEY.message());
                    codecRefuses = true;
                }
                boolean storeRefuses;
                try {
                    store.txn(index++, EtcdCodec.toMvcc(t));
                    storeRefuses = false;
                } catch (MvccException e) {
                    assertThat(e.code()).isEqualTo(MvccException.Code.DUPLICATE_KEY);
                    storeRefuses = true;
                }
                assertThat(codecRefuses).as(t.toString()).isEqualTo(storeRefuses);
            }
        }
    }
}
