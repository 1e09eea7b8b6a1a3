using System.Runtime.CompilerServices;
using CsCheck;
using EventLoop.Timers;

namespace EventLoop.Tests.Core;

/// <summary>
/// The timer queue (an O(1) run for non-decreasing deadlines beside a heap) against a model:
/// a sorted list of (deadline, sequence). Random pushes, cancellations, re-arms of pooled nodes
/// and pops must give the model's order, count and earliest deadline at every step.
/// </summary>
public sealed class TimerQueueTests
{
    [Fact]
    public void RandomOperations_MatchSortedModel()
    {
        Gen.Int[0, 99].Array[1, 400].Sample(ops =>
        {
            var queue = new TimerQueue();
            var model = new SortedSet<(long Deadline, long Sequence, Node Node)>();
            var idle = new List<Node>(); // created, not scheduled: re-armed like pooled sleeps
            long sequence = 0;
            long last = 0;

            void Schedule(Node node, long deadline)
            {
                node.Sequence = sequence++;
                node.Deadline = deadline;
                queue.Push(node, deadline);
                model.Add((deadline, node.Sequence, node));
            }

            foreach (int op in ops)
            {
                if (op < 45)
                {
                    // Mostly non-decreasing deadlines, sometimes earlier ones, often ties.
                    last += op < 10 ? -(op % 7) : op % 4;
                    Schedule(new Node(), last);
                }
                else if (op < 60 && model.Count > 0)
                {
                    var victim = model.ElementAt(op % model.Count);
                    queue.Remove(victim.Node);
                    model.Remove(victim);
                    idle.Add(victim.Node);
                    queue.Remove(victim.Node); // idempotent
                }
                else if (op < 75 && idle.Count > 0)
                {
                    Node node = idle[op % idle.Count];
                    idle.Remove(node);
                    Schedule(node, last + (op % 5) - 2);
                }
                else if (model.Count > 0)
                {
                    var expected = model.Min;
                    Assert.Equal(expected.Deadline, queue.PeekDeadline());
                    ITimerNode popped = queue.Pop();
                    Assert.Same(expected.Node, popped);
                    Assert.Equal(TimerQueue.NotScheduled, popped.HeapIndex);
                    model.Remove(expected);
                    idle.Add(expected.Node);
                }

                Assert.Equal(model.Count, queue.Count);
                if (model.Count > 0)
                {
                    Assert.Equal(model.Min.Deadline, queue.PeekDeadline());
                }
            }

            while (model.Count > 0)
            {
                var expected = model.Min;
                Assert.Same(expected.Node, queue.Pop());
                model.Remove(expected);
            }

            Assert.Equal(0, queue.Count);
        }, iter: 3000);
    }

    [Fact]
    public void EqualDeadlines_PopInSchedulingOrder_AcrossRunAndHeap()
    {
        var queue = new TimerQueue();
        var nodes = new List<Node>();
        long sequence = 0;
        // 10 goes to the run; 5 is earlier than the run's tail, so it and the later 5s go to the heap.
        foreach (long deadline in new long[] { 10, 5, 10, 5, 10 })
        {
            var node = new Node { Sequence = sequence++, Deadline = deadline };
            nodes.Add(node);
            queue.Push(node, deadline);
        }

        var order = new List<Node>();
        while (queue.Count > 0)
        {
            order.Add((Node)queue.Pop());
        }

        Assert.Equal(new[] { nodes[1], nodes[3], nodes[0], nodes[2], nodes[4] }, order);
    }

    [Fact]
    public void CancellingEveryTimer_InAnyOrder_LetsTheNodesBeCollected()
    {
        var queue = new TimerQueue();
        WeakReference[] refs = ScheduleAndCancelInReverse(queue, 10_000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0, queue.Count);
        Assert.DoesNotContain(refs, r => r.IsAlive);
    }

    [Fact]
    public void RepeatedBursts_OfTheSameSize_AllocateNothingOnceWarm()
    {
        var queue = new TimerQueue();
        var nodes = new Node[10_000];
        for (int i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new Node();
        }

        long sequence = 0;
        void Burst()
        {
            foreach (Node node in nodes)
            {
                node.Sequence = sequence++;
                queue.Push(node, sequence);
            }

            while (queue.Count > 0)
            {
                queue.Pop();
            }
        }

        Burst();

        Assert.Equal(0, AllocationWindows.Quietest(3, () =>
        {
            for (int i = 0; i < 10; i++)
            {
                Burst();
            }
        }));
    }

    [Fact]
    public void SmallBursts_AfterALargeOne_GiveTheMemoryBack()
    {
        var queue = new TimerQueue();
        long sequence = 0;
        void Burst(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var node = new Node { Sequence = sequence++ };
                queue.Push(node, sequence);
            }

            while (queue.Count > 0)
            {
                queue.Pop();
            }
        }

        Burst(100_000);
        int large = queue.RunCapacity;
        for (int i = 0; i < 200; i++)
        {
            Burst(10);
        }

        Assert.True(large >= 100_000);
        Assert.True(queue.RunCapacity <= 64, $"capacity {queue.RunCapacity} after small bursts");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] ScheduleAndCancelInReverse(TimerQueue queue, int count)
    {
        var nodes = new Node[count];
        for (int i = 0; i < count; i++)
        {
            nodes[i] = new Node { Sequence = i, Deadline = i };
            queue.Push(nodes[i], i);
        }

        for (int i = count - 1; i >= 0; i--)
        {
            queue.Remove(nodes[i]);
        }

        return Array.ConvertAll(nodes, n => new WeakReference(n));
    }

    private sealed class Node : ITimerNode
    {
        public long Deadline;

        public int HeapIndex { get; set; } = TimerQueue.NotScheduled;

        public long Sequence { get; set; }

        public void OnDue(Loop loop)
        {
        }

        public override string ToString() => $"({Deadline}, #{Sequence})";
    }
}
