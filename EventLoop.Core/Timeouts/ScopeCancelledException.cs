using System.ComponentModel;

namespace EventLoop;

/// <summary>
/// Obsolete spelling of <see cref="ScopeCanceledException"/>, kept one release as its base class
/// so that <c>catch (ScopeCancelledException)</c> still catches what the loop throws. Catch
/// <see cref="ScopeCanceledException"/> instead.
/// </summary>
[Obsolete("Use ScopeCanceledException; this name goes in the next release.")]
[EditorBrowsable(EditorBrowsableState.Never)]
public class ScopeCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public ScopeCancelledException()
        : base("The scope was canceled.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ScopeCancelledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ScopeCancelledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private protected ScopeCancelledException(CancelScope scope)
        : base("The scope was canceled.")
    {
        Scope = scope;
    }

    /// <summary>The scope that was canceled, or null.</summary>
    public CancelScope? Scope { get; }
}
