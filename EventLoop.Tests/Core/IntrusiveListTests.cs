using EventLoop.Internal;

namespace EventLoop.Tests.Core;

public sealed class IntrusiveListTests
{
    [Fact]
    public void AddLast_KeepsFifoOrder()
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        Node[] nodes = [new(1), new(2), new(3)];
        foreach (Node node in nodes)
        {
            list.AddLast(node);
        }

        Assert.Equal([1, 2, 3], Walk(list));
    }

    [Fact]
    public void AddFirst_PutsNodeAtHead()
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        list.AddLast(new Node(2));
        list.AddFirst(new Node(1));
        list.AddLast(new Node(3));

        Assert.Equal([1, 2, 3], Walk(list));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Remove_AnyPosition_UnlinksOnlyThatNode(int index)
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        Node[] nodes = [new(0), new(1), new(2)];
        foreach (Node node in nodes)
        {
            list.AddLast(node);
        }

        Assert.True(list.Remove(nodes[index]));

        Assert.Equal(Enumerable.Range(0, 3).Where(i => i != index), Walk(list));
        Assert.False(IntrusiveList<Node, Node.Links>.IsLinked(nodes[index]));
        Assert.False(list.Remove(nodes[index]));
    }

    [Fact]
    public void RemoveFirst_DrainsInOrderThenEmpty()
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        list.AddLast(new Node(1));
        list.AddLast(new Node(2));

        Assert.Equal(1, list.RemoveFirst()!.Value);
        Assert.Equal(2, list.RemoveFirst()!.Value);
        Assert.Null(list.RemoveFirst());
        Assert.True(list.IsEmpty);
    }

    [Fact]
    public void RemovedNode_CanBeLinkedAgain()
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        var node = new Node(7);
        list.AddLast(node);
        list.Remove(node);
        list.AddLast(new Node(8));
        list.AddLast(node);

        Assert.Equal([8, 7], Walk(list));
    }

    [Fact]
    public void MixedAddsAndRemoves_KeepOrderAndAppendAfterTheRealTail()
    {
        var list = default(IntrusiveList<Node, Node.Links>);
        Node[] nodes = [new(0), new(1), new(2), new(3)];
        list.AddLast(nodes[1]);
        list.AddFirst(nodes[0]);
        list.AddLast(nodes[2]);
        list.Remove(nodes[2]); // the tail: the head must learn the new tail
        list.AddLast(nodes[3]);
        list.Remove(nodes[0]); // the head: the next node inherits the tail pointer
        list.AddLast(nodes[2]);

        Assert.Equal([1, 3, 2], Walk(list));
    }

    private static List<int> Walk(IntrusiveList<Node, Node.Links> list)
    {
        var values = new List<int>();
        for (Node? n = list.First; n is not null; n = list.NextOf(n))
        {
            values.Add(n.Value);
        }

        return values;
    }

    private sealed class Node(int value)
    {
        public IntrusiveLinks<Node> Linked;

        public int Value { get; } = value;

        public struct Links : ILinksAccessor<Node>
        {
            public static ref IntrusiveLinks<Node> Of(Node node) => ref node.Linked;
        }
    }
}
