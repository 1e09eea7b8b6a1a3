using System.Text;

namespace EventLoop.Samples;

/// <summary>Exceptions as the one line a user of the command line sees: no stack trace, no line breaks.</summary>
internal static class ErrorText
{
    /// <summary>
    /// The exception's message followed by its inner exceptions' messages where they add something
    /// (HttpClient wraps the cause, "Connection reset by peer", in a generic message). Below a
    /// cancellation or a timeout the chain stops at the connection it closed: "Cannot access a
    /// disposed object" is what the cancelled read saw, not a cause.
    /// </summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var reason = new StringBuilder(Clean(error.Message));
        bool canceled = error is OperationCanceledException or TimeoutException;
        for (Exception? inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (canceled && inner is ObjectDisposedException)
            {
                break;
            }

            canceled |= inner is OperationCanceledException or TimeoutException;
            string message = Clean(inner.Message);
            if (message.Length > 0 && !reason.ToString().Contains(message, StringComparison.Ordinal))
            {
                reason.Append(": ").Append(message);
            }
        }

        return reason.ToString();
    }

    /// <summary><see cref="Describe"/> after the exception's type name, for failures nobody anticipated.</summary>
    public static string DescribeUnexpected(Exception error) => $"{error.GetType().Name}: {Describe(error)}";

    private static string Clean(string message) => message.ReplaceLineEndings(" ").Trim().TrimEnd('.');
}
