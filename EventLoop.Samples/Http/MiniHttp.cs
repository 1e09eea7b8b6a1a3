using System.Buffers;
using System.Globalization;
using System.Text;

namespace EventLoop.Samples.Http;

/// <summary>
/// The tiny HTTP/1.1 server's protocol as pure functions: parse a request head, format a response.
/// Only what the fetch demo needs: GET and HEAD, keep-alive, no request bodies beyond skipping them,
/// no chunked uploads.
/// </summary>
public static class MiniHttp
{
    /// <summary>Largest request head accepted (8 KiB, the usual server default).</summary>
    public const int MaxHeadLength = 8 * 1024;

    private static ReadOnlySpan<byte> HeadTerminator => "\r\n\r\n"u8;

    /// <summary>Parses the request head at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Received bytes.</param>
    /// <param name="head">The head on <see cref="HttpParseStatus.Done"/>.</param>
    /// <param name="consumed">Bytes the head occupied (including the blank line) on <see cref="HttpParseStatus.Done"/>.</param>
    /// <param name="error">Why the head is invalid, on <see cref="HttpParseStatus.Invalid"/>.</param>
    /// <returns>The outcome; never throws for bad input.</returns>
    public static HttpParseStatus TryParseRequestHead(ReadOnlySpan<byte> buffer, out HttpRequestHead? head, out int consumed, out string? error)
    {
        head = null;
        consumed = 0;
        error = null;
        int end = buffer.IndexOf(HeadTerminator);
        if (end < 0)
        {
            return buffer.Length > MaxHeadLength ? HttpParseStatus.TooLarge : HttpParseStatus.NeedMoreData;
        }

        if (end + HeadTerminator.Length > MaxHeadLength)
        {
            return HttpParseStatus.TooLarge;
        }

        // Latin-1 keeps every byte as one char, so odd bytes are rejected below rather than mangled.
        string text = Encoding.Latin1.GetString(buffer[..end]);
        string[] lines = text.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0].Length == 0 || requestLine[1].Length == 0)
        {
            error = "malformed request line";
            return HttpParseStatus.Invalid;
        }

        string method = requestLine[0];
        string target = requestLine[1];
        string version = requestLine[2];
        if (version is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            error = $"unsupported version '{version}'";
            return HttpParseStatus.Invalid;
        }

        if (!IsToken(method))
        {
            error = "malformed method";
            return HttpParseStatus.Invalid;
        }

        bool keepAlive = version == "HTTP/1.1";
        long contentLength = 0;
        bool sawContentLength = false;
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon)))
            {
                error = "malformed header line";
                return HttpParseStatus.Invalid;
            }

            ReadOnlySpan<char> name = line.AsSpan(0, colon);
            ReadOnlySpan<char> value = line.AsSpan(colon + 1).Trim(" \t");
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                if (ContainsToken(value, "close"))
                {
                    keepAlive = false;
                }
                else if (ContainsToken(value, "keep-alive"))
                {
                    keepAlive = true;
                }
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                // Differing duplicates are a request-smuggling vector (RFC 9112 §6.3): reject.
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long length)
                    || (sawContentLength && length != contentLength))
                {
                    error = "invalid Content-Length";
                    return HttpParseStatus.Invalid;
                }

                contentLength = length;
                sawContentLength = true;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                error = "request bodies with Transfer-Encoding are not supported";
                return HttpParseStatus.Invalid;
            }
        }

        head = new HttpRequestHead(method, target, version, keepAlive, contentLength);
        consumed = end + HeadTerminator.Length;
        return HttpParseStatus.Done;
    }

    /// <summary>Writes a complete response: status line, Content-Type, Content-Length, Connection, body.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="status">Status code (100–999).</param>
    /// <param name="reason">Reason phrase.</param>
    /// <param name="contentType">Content-Type value.</param>
    /// <param name="body">The body.</param>
    /// <param name="keepAlive">False adds <c>Connection: close</c>.</param>
    /// <param name="omitBody">True for HEAD: the headers describe the body, which is not sent.</param>
    public static void WriteResponse(IBufferWriter<byte> output, int status, string reason, string contentType, ReadOnlySpan<byte> body, bool keepAlive, bool omitBody = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 999);
        string head = string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nServer: EventLoop.Samples\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{(keepAlive ? string.Empty : "Connection: close\r\n")}\r\n");
        Span<byte> span = output.GetSpan(head.Length);
        int written = Encoding.ASCII.GetBytes(head, span);
        output.Advance(written);
        if (!omitBody)
        {
            output.Write(body);
        }
    }

    /// <summary>Writes a short plain-text error response that closes the connection.</summary>
    /// <param name="output">Destination.</param>
    /// <param name="status">Status code.</param>
    /// <param name="reason">Reason phrase, also the body.</param>
    public static void WriteError(IBufferWriter<byte> output, int status, string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        WriteResponse(output, status, reason, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(reason + "\n"), keepAlive: false);
    }

    private static bool ContainsToken(ReadOnlySpan<char> value, string token)
    {
        foreach (Range part in value.Split(','))
        {
            if (value[part].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // RFC 9110 tchar.
    private static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
