package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per etcd rule of the key-value API. */
class KvStoreTest {

  @TempDir Path dir;
  private RocksDbKvStore store;
  private long index;

  @BeforeEach
  void open() {
    store = RocksDbKvStore.open(dir);
  }

  @AfterEach
  void close() {
    store.close();
  }

  static Bytes b(String s) {
    return Bytes.of(s);
  }

  private PutResponse put(String k, String v) {
    return store.put(++index, PutRequest.of(b(k), b(v)));
  }

  private PutResponse put(PutRequest r) {
    return store.put(++index, r);
  }

  private DeleteRangeResponse delete(String k) {
    return store.deleteRange(++index, DeleteRangeRequest.key(b(k)).withPrevKv());
  }

  private TxnResponse txn(List<Compare> cmp, List<RequestOp> then, List<RequestOp> otherwise) {
    return store.txn(++index, new TxnRequest(cmp, then, otherwise));
  }

  private KeyValue get(String k) {
    List<KeyValue> kvs = store.range(RangeRequest.key(b(k))).kvs();
    return kvs.isEmpty() ? null : kvs.get(0);
  }

  private static void assertFails(MvccException.Code code, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(MvccException.class)
        .hasMessage(code.message())
        .extracting(e -> ((MvccException) e).code()).isEqualTo(code);
  }

  private static List<String> keys(RangeResponse r) {
    return r.kvs().stream().map(kv -> kv.key().toStringUtf8()).toList();
  }

  // ---------------------------------------------------------------- revisions

  @Test
  void emptyStoreStartsAtRevisionOne() {
    assertThat(store.currentRevision()).isEqualTo(1);
    assertThat(store.range(RangeRequest.all())).isEqualTo(new RangeResponse(1, List.of(), false,
        0));
  }

  @Test
  void putCreatesRevisionAndCountsVersions() {
    assertThat(put("a", "1").revision()).isEqualTo(2);
    assertThat(put("a", "2").revision()).isEqualTo(3);
    assertThat(get("a")).isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
  }

  @Test
  void deleteResetsVersionAndCreateRevision() {
    put("a", "1");
    put("a", "2");
    assertThat(delete("a").deleted()).isEqualTo(1);
    put("a", "3");
    assertThat(get("a")).isEqualTo(new KeyValue(b("a"), 5, 5, 1, b("3"), 0));
  }

  @Test
  void deleteOfMissingKeyDoesNotBumpRevision() {
    put("a", "1");
    DeleteRangeResponse r = delete("b");
    assertThat(r).isEqualTo(new DeleteRangeResponse(2, 0, List.of()));
    assertThat(store.currentRevision()).isEqualTo(2);
    assertThat(store.appliedIndex()).isEqualTo(index);
  }

  @Test
  void deleteRangeReturnsDeletedKeysAsPrevKv() {
    put("a", "1");
    put("b", "2");
    put("c", "3");
    DeleteRangeResponse r = store.deleteRange(++index,
        DeleteRangeRequest.range(b("a"), b("c")).withPrevKv());
    assertThat(r.revision()).isEqualTo(5);
    assertThat(r.deleted()).isEqualTo(2);
    assertThat(r.prevKvs()).extracting(KeyValue::value).containsExactly(b("1"), b("2"));
    assertThat(keys(store.range(RangeRequest.all()))).containsExactly("c");
  }

  @Test
  void putReturnsPrevKvOnlyWhenAsked() {
    put("a", "1");
    assertThat(put("a", "2").prevKv()).isEmpty();
    assertThat(put(PutRequest.of(b("a"), b("3")).withPrevKv()).prevKv())
        .contains(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
  }

  @Test
  void rangeAtPastRevisionSeesOldValuesAndDeletedKeys() {
    put("a", "1");
    put("a", "2");
    delete("a");
    assertThat(store.range(RangeRequest.key(b("a")).atRevision(2)).kvs())
        .containsExactly(new KeyValue(b("a"), 2, 2, 1, b("1"), 0));
    assertThat(store.range(RangeRequest.key(b("a")).atRevision(3)).kvs())
        .extracting(KeyValue::value).containsExactly(b("2"));
    assertThat(store.range(RangeRequest.key(b("a"))).kvs()).isEmpty();
    assertThat(store.range(RangeRequest.key(b("a")).atRevision(2)).revision())
        .as("header revision is the current one").isEqualTo(4);
  }

  @Test
  void rangeEndConventionsFollowEtcd() {
    for (String k : List.of("a", "b", "b\0", "c", "d")) {
      put(k, "v");
    }
    assertThat(keys(store.range(RangeRequest.key(b("b"))))).containsExactly("b");
    assertThat(keys(store.range(RangeRequest.range(b("b"), Bytes.NUL))))
        .containsExactly("b", "b\0", "c", "d");
    assertThat(keys(store.range(RangeRequest.all()))).containsExactly("a", "b", "b\0", "c", "d");
    assertThat(keys(store.range(RangeRequest.range(b("b"), b("c")))))
        .containsExactly("b", "b\0");
    assertThat(keys(store.range(RangeRequest.prefix(b("b"))))).containsExactly("b", "b\0");
    assertThat(keys(store.range(RangeRequest.range(b("c"), b("b"))))).isEmpty();
  }

  @Test
  void rangeWithEmptyKeyFails() {
    assertFails(MvccException.Code.EMPTY_KEY,
        () -> store.range(RangeRequest.key(Bytes.EMPTY)));
    assertFails(MvccException.Code.EMPTY_KEY, () -> put("", "v"));
  }

  @Test
  void rangeCountIsTotalBeforeLimitAndMoreTellsTruncation() {
    for (String k : List.of("a", "b", "c")) {
      put(k, "v");
    }
    RangeResponse r = store.range(RangeRequest.all().withLimit(2));
    assertThat(keys(r)).containsExactly("a", "b");
    assertThat(r.more()).isTrue();
    assertThat(r.count()).isEqualTo(3);
    assertThat(store.range(RangeRequest.all().withLimit(3)).more()).isFalse();
    RangeResponse counted = store.range(RangeRequest.all().withCountOnly(true));
    assertThat(counted.kvs()).isEmpty();
    assertThat(counted.count()).isEqualTo(3);
  }

  @Test
  void rangeSortsByTargetAndRevisionFiltersDoNotReduceCount() {
    put("a", "3");
    put("b", "1");
    put("c", "2");
    put("a", "4");
    RangeResponse byValue = store.range(RangeRequest.all()
        .sortedBy(RangeRequest.SortTarget.VALUE, RangeRequest.SortOrder.DESCEND));
    assertThat(keys(byValue)).containsExactly("a", "c", "b");
    RangeResponse byMod = store.range(RangeRequest.all()
        .sortedBy(RangeRequest.SortTarget.MOD, RangeRequest.SortOrder.NONE));
    assertThat(keys(byMod)).as("NONE with a non-KEY target sorts ascending")
        .containsExactly("b", "c", "a");
    RangeResponse filtered = store.range(RangeRequest.all().withModRevisionBounds(3, 4));
    assertThat(keys(filtered)).containsExactly("b", "c");
    assertThat(filtered.count()).isEqualTo(3);
    RangeResponse keysOnly = store.range(RangeRequest.key(b("a")).withKeysOnly(true));
    assertThat(keysOnly.kvs().get(0).value()).isEqualTo(Bytes.EMPTY);
  }

  @Test
  void readBelowCompactedRevisionFails() {
    put("a", "1");
    put("a", "2");
    put("a", "3");
    store.compact(++index, 3);
    assertFails(MvccException.Code.COMPACTED,
        () -> store.range(RangeRequest.key(b("a")).atRevision(2)));
    assertThat(store.range(RangeRequest.key(b("a")).atRevision(3)).kvs())
        .extracting(KeyValue::value).containsExactly(b("2"));
  }

  @Test
  void readAtFutureRevisionFails() {
    put("a", "1");
    assertFails(MvccException.Code.FUTURE_REV,
        () -> store.range(RangeRequest.key(b("a")).atRevision(3)));
  }

  @Test
  void compactAtOrBelowCompactedRevisionFails() {
    put("a", "1");
    put("a", "2");
    assertThat(store.compact(++index, 2)).isEqualTo(new CompactResponse(3, 2));
    assertFails(MvccException.Code.COMPACTED, () -> store.compact(++index, 2));
    assertFails(MvccException.Code.COMPACTED, () -> store.compact(++index, 1));
  }

  @Test
  void compactAboveCurrentRevisionFails() {
    put("a", "1");
    assertFails(MvccException.Code.FUTURE_REV, () -> store.compact(++index, 3));
    assertThat(store.compact(++index, 2).compactRevision()).isEqualTo(2);
  }

  @Test
  void compactionDoesNotCreateARevision() {
    put("a", "1");
    store.compact(++index, 2);
    assertThat(store.currentRevision()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- put flags

  @Test
  void putWithIgnoreValueOnMissingKeyFailsKeyNotFound() {
    assertFails(MvccException.Code.KEY_NOT_FOUND,
        () -> put(new PutRequest(b("a"), Bytes.EMPTY, 0, false, true, false)));
    assertFails(MvccException.Code.KEY_NOT_FOUND,
        () -> put(new PutRequest(b("a"), b("v"), 0, false, false, true)));
    assertThat(store.currentRevision()).isEqualTo(1);
  }

  @Test
  void putWithIgnoreValueKeepsValueAndChangesLease() {
    store.leaseGrant(++index, 7, 60);
    put("a", "keep");
    put(new PutRequest(b("a"), Bytes.EMPTY, 7, false, true, false));
    assertThat(get("a")).isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("keep"), 7));
  }

  @Test
  void putWithIgnoreLeaseKeepsLease() {
    store.leaseGrant(++index, 7, 60);
    put(PutRequest.of(b("a"), b("1"), 7));
    put(new PutRequest(b("a"), b("2"), 0, false, false, true));
    assertThat(get("a").lease()).isEqualTo(7);
    assertThat(store.leaseTimeToLive(7, true).keys()).containsExactly(b("a"));
  }

  @Test
  void ignoreFlagsWithAValueOrLeaseAreRejected() {
    put("a", "1");
    assertFails(MvccException.Code.VALUE_PROVIDED,
        () -> put(new PutRequest(b("a"), b("x"), 0, false, true, false)));
    assertFails(MvccException.Code.LEASE_PROVIDED,
        () -> put(new PutRequest(b("a"), b("x"), 5, false, false, true)));
  }

  @Test
  void putWithUnknownLeaseFails() {
    assertFails(MvccException.Code.LEASE_NOT_FOUND, () -> put(PutRequest.of(b("a"), b("1"), 9)));
  }

  // ---------------------------------------------------------------- txn

  private static PutRequest p(String k, String v) {
    return PutRequest.of(b(k), b(v));
  }

  @Test
  void txnPuttingSameKeyTwiceIsRejected() {
    assertFails(MvccException.Code.DUPLICATE_KEY,
        () -> txn(List.of(), List.of(p("a", "1"), p("a", "2")), List.of()));
    assertFails(MvccException.Code.DUPLICATE_KEY,
        () -> txn(List.of(), List.of(), List.of(p("a", "1"), p("a", "2"))));
    assertThat(store.currentRevision()).isEqualTo(1);
  }

  @Test
  void txnPuttingInsideDeletedRangeIsRejected() {
    assertFails(MvccException.Code.DUPLICATE_KEY, () -> txn(List.of(),
        List.of(DeleteRangeRequest.range(b("a"), b("c")), p("b", "1")), List.of()));
    assertFails(MvccException.Code.DUPLICATE_KEY, () -> txn(List.of(),
        List.of(p("b", "1"), DeleteRangeRequest.key(b("b"))), List.of()));
    assertFails(MvccException.Code.DUPLICATE_KEY, () -> txn(List.of(),
        List.of(DeleteRangeRequest.range(b("a"), Bytes.NUL), p("a", "1")), List.of()));
  }

  @Test
  void txnPutAfterDeleteToTheEndIsAllowedAsInEtcd() {
    put("b", "old");
    TxnResponse r = txn(List.of(),
        List.of(DeleteRangeRequest.range(b("a"), Bytes.NUL), p("b", "new")), List.of());
    assertThat(r.revision()).isEqualTo(3);
    assertThat(get("b")).isEqualTo(new KeyValue(b("b"), 3, 3, 1, b("new"), 0));
  }

  @Test
  void txnPutNextToDeleteOfOtherKeysIsAllowed() {
    put("a", "1");
    TxnResponse r = txn(List.of(),
        List.of(DeleteRangeRequest.range(b("a"), b("b")), p("b", "1")), List.of());
    assertThat(r.revision()).isEqualTo(3);
    assertThat(keys(store.range(RangeRequest.all()))).containsExactly("b");
  }

  @Test
  void txnNestedPutRepeatingOuterPutIsRejected() {
    TxnRequest nested = new TxnRequest(List.of(), List.of(p("a", "2")), List.of());
    assertFails(MvccException.Code.DUPLICATE_KEY,
        () -> txn(List.of(), List.of(p("a", "1"), nested), List.of()));
    TxnRequest nestedDelete = new TxnRequest(List.of(),
        List.of(DeleteRangeRequest.key(b("a"))), List.of());
    assertFails(MvccException.Code.DUPLICATE_KEY,
        () -> txn(List.of(), List.of(nestedDelete, p("a", "1")), List.of()));
  }

  @Test
  void txnNestedThenAndElsePutsOfOneKeyAreAllowed() {
    TxnRequest nested = new TxnRequest(List.of(), List.of(p("a", "then")),
        List.of(p("a", "else")));
    TxnResponse r = txn(List.of(), List.of(nested), List.of());
    assertThat(r.succeeded()).isTrue();
    assertThat(get("a").value()).isEqualTo(b("then"));
  }

  @Test
  void txnPutThenDeleteInLaterNestedTxnKeepsBothVersionsInOneRevision() {
    TxnRequest first = new TxnRequest(List.of(), List.of(p("a", "1")), List.of());
    TxnRequest second = new TxnRequest(List.of(),
        List.of(DeleteRangeRequest.key(b("a")).withPrevKv()), List.of());
    TxnResponse r = txn(List.of(), List.of(first, second), List.of());
    assertThat(r.revision()).isEqualTo(2);
    assertThat(get("a")).isNull();
    assertThat(store.events(2, 2)).extracting(Event::type)
        .containsExactly(Event.Type.PUT, Event.Type.DELETE);
  }

  @Test
  void txnWithOnlyReadsDoesNotBumpRevision() {
    put("a", "1");
    TxnResponse r = txn(List.of(Compare.version(b("a"), Compare.Result.EQUAL, 1)),
        List.of(RangeRequest.key(b("a"))), List.of());
    assertThat(r.succeeded()).isTrue();
    assertThat(r.revision()).isEqualTo(2);
    assertThat(store.currentRevision()).isEqualTo(2);
  }

  @Test
  void txnWritesShareOneRevisionInSubRevisionOrder() {
    TxnResponse r = txn(List.of(), List.of(p("b", "1"), p("a", "2")), List.of());
    assertThat(r.revision()).isEqualTo(2);
    assertThat(get("a").modRevision()).isEqualTo(2);
    assertThat(get("b").modRevision()).isEqualTo(2);
    assertThat(store.events(2, 2)).extracting(e -> e.kv().key())
        .containsExactly(b("b"), b("a"));
  }

  @Test
  void txnChoosesFailureBranchWhenACompareFails() {
    put("a", "1");
    TxnResponse r = txn(List.of(Compare.value(b("a"), Compare.Result.EQUAL, b("2"))),
        List.of(p("x", "then")), List.of(p("y", "else")));
    assertThat(r.succeeded()).isFalse();
    assertThat(get("y")).isNotNull();
    assertThat(get("x")).isNull();
  }

  @Test
  void txnCompareOverRangeRequiresEveryKey() {
    put("a1", "1");
    put("a2", "1");
    put("a3", "2");
    Compare allOne = Compare.value(b("a"), Compare.Result.EQUAL, b("1")).overRange(b("b"));
    assertThat(txn(List.of(allOne), List.of(), List.of()).succeeded()).isFalse();
    Compare younger = Compare.modRevision(b("a"), Compare.Result.LESS, 5).overRange(b("b"));
    assertThat(txn(List.of(younger), List.of(), List.of()).succeeded()).isTrue();
  }

  @Test
  void valueCompareOnMissingKeyIsFalseButVersionComparesAsZero() {
    assertThat(txn(List.of(Compare.value(b("a"), Compare.Result.NOT_EQUAL, b("x"))),
        List.of(), List.of()).succeeded()).isFalse();
    assertThat(txn(List.of(Compare.version(b("a"), Compare.Result.EQUAL, 0)),
        List.of(), List.of()).succeeded()).isTrue();
    assertThat(txn(List.of(Compare.createRevision(b("a"), Compare.Result.EQUAL, 0)),
        List.of(), List.of()).succeeded()).isTrue();
  }

  @Test
  void nestedTxnComparesSeeStateBeforeOuterTxn() {
    TxnRequest nested = new TxnRequest(
        List.of(Compare.version(b("a"), Compare.Result.EQUAL, 0)),
        List.of(p("saw", "missing")), List.of(p("saw", "present")));
    txn(List.of(), List.of(p("a", "1"), nested), List.of());
    assertThat(get("saw").value()).isEqualTo(b("missing"));
  }

  @Test
  void rangeInsideTxnSeesEarlierWritesOfTheTxn() {
    put("a", "old");
    TxnResponse r = txn(List.of(), List.of(
        RangeRequest.key(b("a")), p("a", "new"), RangeRequest.key(b("a")),
        RangeRequest.key(b("a")).atRevision(2)), List.of());
    List<ResponseOp> rs = r.responses();
    assertThat(((RangeResponse) rs.get(0)).kvs().get(0).value()).isEqualTo(b("old"));
    assertThat(((RangeResponse) rs.get(2)).kvs().get(0))
        .isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("new"), 0));
    assertThat(((RangeResponse) rs.get(3)).kvs().get(0).value()).isEqualTo(b("old"));
    assertThat(rs).allSatisfy(op -> assertThat(op.revision()).isEqualTo(3));
  }

  @Test
  void txnRangeAtFutureRevisionFailsWholeTxn() {
    put("a", "1");
    assertFails(MvccException.Code.FUTURE_REV, () -> txn(List.of(),
        List.of(p("b", "1"), RangeRequest.key(b("a")).atRevision(3)), List.of()));
    assertThat(get("b")).isNull();
  }

  @Test
  void txnCompareWithEmptyKeyFails() {
    assertFails(MvccException.Code.EMPTY_KEY, () -> txn(
        List.of(Compare.version(Bytes.EMPTY, Compare.Result.EQUAL, 0)), List.of(), List.of()));
  }

  // ---------------------------------------------------------------- leases

  @Test
  void leaseRevokeDeletesAttachedKeysInOneRevision() {
    store.leaseGrant(++index, 1, 30);
    put(PutRequest.of(b("b"), b("1"), 1));
    put(PutRequest.of(b("a"), b("1"), 1));
    put("c", "1");
    LeaseRevokeResponse r = store.leaseRevoke(++index, 1);
    assertThat(r).isEqualTo(new LeaseRevokeResponse(5, 2));
    assertThat(keys(store.range(RangeRequest.all()))).containsExactly("c");
    assertThat(store.events(5, 5)).extracting(e -> e.kv().key())
        .containsExactly(b("a"), b("b"));
    assertThat(store.leases()).isEmpty();
  }

  @Test
  void revokingLeaseWithoutKeysDoesNotBumpRevision() {
    store.leaseGrant(++index, 1, 30);
    assertThat(store.leaseRevoke(++index, 1)).isEqualTo(new LeaseRevokeResponse(1, 0));
  }

  @Test
  void rePutWithAnotherLeaseMovesTheKeyAndPutWithoutLeaseDetaches() {
    store.leaseGrant(++index, 1, 30);
    store.leaseGrant(++index, 2, 30);
    put(PutRequest.of(b("a"), b("1"), 1));
    put(PutRequest.of(b("a"), b("2"), 2));
    assertThat(store.leaseTimeToLive(1, true).keys()).isEmpty();
    assertThat(store.leaseTimeToLive(2, true).keys()).containsExactly(b("a"));
    put("a", "3");
    assertThat(store.leaseTimeToLive(2, true).keys()).isEmpty();
    store.leaseRevoke(++index, 2);
    assertThat(get("a")).isNotNull();
  }

  @Test
  void grantingExistingLeaseFailsAndUnknownLeaseIsNotFound() {
    store.leaseGrant(++index, 1, 30);
    assertFails(MvccException.Code.LEASE_EXISTS, () -> store.leaseGrant(++index, 1, 30));
    assertFails(MvccException.Code.LEASE_NOT_FOUND, () -> store.leaseRevoke(++index, 2));
    assertFails(MvccException.Code.LEASE_NOT_FOUND,
        () -> store.leaseCheckpoint(++index, 2, 10));
    assertFails(MvccException.Code.LEASE_NOT_FOUND, () -> store.leaseTimeToLive(2, false));
  }

  @Test
  void checkpointStoresRemainingTtl() {
    store.leaseGrant(++index, 1, 30);
    store.leaseCheckpoint(++index, 1, 12);
    assertThat(store.leaseTimeToLive(1, false).lease()).isEqualTo(new Lease(1, 30, 12));
    assertThat(store.leases()).containsExactly(new Lease(1, 30, 12));
  }

  @Test
  void batchedCheckpointsRecordEveryExistingLeaseInOneIndexAndSkipUnknownOnes() {
    store.leaseGrant(++index, 1, 30);
    store.leaseGrant(++index, 2, 40);
    long at = ++index;
    assertThat(store.leaseCheckpoints(at, java.util.Map.of(1L, 12L, 2L, 33L, 9L, 5L))).isEqualTo(2);
    assertThat(store.appliedIndex()).isEqualTo(at);
    assertThat(store.leases()).containsExactly(new Lease(1, 30, 12), new Lease(2, 40, 33));
    assertThat(store.leaseCheckpoints(at, java.util.Map.of(1L, 1L))).isEqualTo(2);
    assertThat(store.leases()).containsExactly(new Lease(1, 30, 12), new Lease(2, 40, 33));
  }

  // ---------------------------------------------------------------- exactly once

  @Test
  void reapplyingAnAppliedIndexChangesNothingAndReturnsTheRecordedResult() {
    PutResponse first = store.put(5, p("a", "1"));
    PutResponse again = store.put(5, p("a", "other"));
    assertThat(again).isEqualTo(first);
    assertThat(store.put(3, p("b", "1"))).isEqualTo(new PutResponse(2, Optional.empty()));
    assertThat(get("a").value()).isEqualTo(b("1"));
    assertThat(get("b")).isNull();
    assertThat(store.appliedIndex()).isEqualTo(5);
    assertThat(store.currentRevision()).isEqualTo(2);
  }

  @Test
  void refusedRequestStillConsumesItsIndex() {
    assertFails(MvccException.Code.LEASE_NOT_FOUND, () -> store.put(4, PutRequest.of(b("a"),
        b("1"), 9)));
    assertThat(store.appliedIndex()).isEqualTo(4);
    assertFails(MvccException.Code.LEASE_NOT_FOUND, () -> store.put(4, PutRequest.of(b("a"),
        b("1"), 9)));
    store.markApplied(6);
    assertThat(store.appliedIndex()).isEqualTo(6);
    assertThat(store.currentRevision()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- watch support

  @Test
  void eventsReturnHistoryWithPrevKv() {
    put("a", "1");
    put("a", "2");
    delete("a");
    List<Event> events = store.events(2, 10);
    KeyValue v1 = new KeyValue(b("a"), 2, 2, 1, b("1"), 0);
    KeyValue v2 = new KeyValue(b("a"), 2, 3, 2, b("2"), 0);
    assertThat(events).containsExactly(
        new Event(Event.Type.PUT, v1, Optional.empty()),
        new Event(Event.Type.PUT, v2, Optional.of(v1)),
        new Event(Event.Type.DELETE, new KeyValue(b("a"), 0, 4, 0, Bytes.EMPTY, 0),
            Optional.of(v2)));
  }

  @Test
  void eventsBelowCompactedRevisionFail() {
    put("a", "1");
    put("a", "2");
    store.compact(++index, 3);
    assertFails(MvccException.Code.COMPACTED, () -> store.events(2, 3));
    assertThat(store.events(3, 3)).singleElement()
        .satisfies(e -> assertThat(e.prevKv()).isEmpty());
  }

  @Test
  void listenerHearsEachNewRevisionWithItsEvents() {
    List<Long> revisions = new ArrayList<>();
    List<Event> heard = new ArrayList<>();
    store.addRevisionListener((rev, events) -> {
      revisions.add(rev);
      heard.addAll(events);
    });
    put("a", "1");
    delete("missing");
    txn(List.of(), List.of(p("b", "1"), DeleteRangeRequest.key(b("a"))), List.of());
    assertThat(revisions).containsExactly(2L, 3L);
    assertThat(heard).isEqualTo(store.events(2, 3));
  }

  @Test
  void errorMessagesAreEtcds() {
    assertThat(MvccException.Code.COMPACTED.message())
        .isEqualTo("etcdserver: mvcc: required revision has been compacted");
    assertThat(MvccException.Code.FUTURE_REV.message())
        .isEqualTo("etcdserver: mvcc: required revision is a future revision");
    assertThat(MvccException.Code.DUPLICATE_KEY.message())
        .isEqualTo("etcdserver: duplicate key given in txn request");
    assertThat(MvccException.Code.EMPTY_KEY.message())
        .isEqualTo("etcdserver: key is not provided");
    assertThat(MvccException.Code.NO_SPACE.message())
        .isEqualTo("etcdserver: mvcc: database space exceeded");
    assertThat(MvccException.Code.LEASE_NOT_FOUND.message())
        .isEqualTo("etcdserver: requested lease not found");
    assertThat(MvccException.Code.LEASE_EXISTS.message())
        .isEqualTo("etcdserver: lease already exists");
    assertThat(MvccException.Code.KEY_NOT_FOUND.message())
        .isEqualTo("etcdserver: key not found");
  }
}
