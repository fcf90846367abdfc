/** A refund scheduled for a completed payment, emitted once the generator's clock reaches `due`. */
export interface PendingRefund {
  due: number;
  rank: number;
  serial: number;
  storeId: string;
  method: string;
  currency: string;
  amount: bigint;
}

/**
 * Refunds waiting for their time, earliest first (a binary min-heap on
 * `due`): the generator walks forward in time, so only the refunds of the
 * last few weeks' payments are ever held, not the whole store.
 */
export class RefundQueue {
  private readonly heap: PendingRefund[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(refund: PendingRefund): void {
    const heap = this.heap;
    heap.push(refund);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent].due <= heap[i].due) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  /** Removes and returns every refund due before `until`. */
  popBefore(until: number): PendingRefund[] {
    const due: PendingRefund[] = [];
    while (this.heap.length > 0 && this.heap[0].due < until) due.push(this.pop());
    return due;
  }

  private pop(): PendingRefund {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left].due < heap[smallest].due) smallest = left;
        if (right < heap.length && heap[right].due < heap[smallest].due) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}
