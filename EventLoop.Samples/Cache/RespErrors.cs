namespace EventLoop.Samples.Cache;

/// <summary>Redis's exact error texts (with their code prefix) as written after '-'.</summary>
internal static class RespErrors
{
    public const string NotAnInteger = "ERR value is not an integer or out of range";
    public const string SyntaxError = "ERR syntax error";
    public const string IncrOverflow = "ERR increment or decrement would overflow";
    public const string DecrOverflow = "ERR decrement would overflow";
    public const string DbIndexOutOfRange = "ERR DB index is out of range";
    public const string OutOfMemory = "OOM command not allowed when used memory > 'maxmemory'.";
    public const string NoProto = "NOPROTO unsupported protocol version";
    public const string ProtocolVersionNotInteger = "ERR Protocol version is not an integer or out of range";
    public const string BadClientName = "ERR Client names cannot contain spaces, newlines or special characters.";
    public const string NxWithOthers = "ERR NX and XX, GT or LT options at the same time are not compatible";
    public const string GtAndLt = "ERR GT and LT options at the same time are not compatible";

    public static string WrongArity(string command) => $"ERR wrong number of arguments for '{command}' command";

    public static string InvalidExpireTime(string command) => $"ERR invalid expire time in '{command}' command";
}
