<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ErrorDialog</name>
    <message>
        <source>Out of memory</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <source>The model folder cannot be used</source>
        <translation>无法使用该模型文件夹</translation>
    </message>
    <message>
        <source>This device is not available</source>
        <translation>该设备不可用</translation>
    </message>
    <message>
        <source>These settings cannot run</source>
        <translation>当前设置无法运行</translation>
    </message>
    <message>
        <source>The clip cannot be saved</source>
        <translation>无法保存视频</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>The job failed</source>
        <translation>任务失败</translation>
    </message>
    <message>
        <source>The job needed more memory than this computer has free.</source>
        <translation>任务所需的内存超出了这台电脑当前的可用内存。</translation>
    </message>
    <message>
        <source>The model could not be loaded from this folder.</source>
        <translation>无法从该文件夹加载模型。</translation>
    </message>
    <message>
        <source>The device or memory mode asked for does not exist on this computer.</source>
        <translation>这台电脑上没有所选的设备或内存模式。</translation>
    </message>
    <message>
        <source>Some settings are out of range.</source>
        <translation>部分设置超出了允许范围。</translation>
    </message>
    <message>
        <source>The finished clip could not be written.</source>
        <translation>生成的视频无法写入。</translation>
    </message>
    <message>
        <source>ContentV Studio hit an unexpected problem.</source>
        <translation>ContentV Studio 遇到了意外问题。</translation>
    </message>
    <message>
        <source>The job failed.</source>
        <translation>任务失败。</translation>
    </message>
</context>
<context>
    <name>GenerationWorker</name>
    <message>
        <source>The generation engine could not start.</source>
        <translation>生成引擎无法启动。</translation>
    </message>
    <message>
        <source>The generation engine is not available (see the earlier error).</source>
        <translation>生成引擎不可用（见之前的错误）。</translation>
    </message>
</context>
<context>
    <name>JobController</name>
    <message>
        <source>No model folder is chosen.</source>
        <translation>尚未选择模型文件夹。</translation>
    </message>
    <message>
        <source>Choose your ContentV-8B folder, or make a demo model to check the install.</source>
        <translation>请选择 ContentV-8B 模型文件夹，或生成一个演示模型来检查安装。</translation>
    </message>
    <message>
        <source>This history entry has no prompt to run again.</source>
        <translation>该历史记录没有可重新运行的提示词。</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>The new language is used the next time ContentV Studio starts.</source>
        <translation>新语言将在下次启动 ContentV Studio 时生效。</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>MemoryPanel</name>
    <message>
        <source>All on GPU</source>
        <translation>全部放在 GPU 上</translation>
    </message>
    <message>
        <source>Every component stays on the GPU. Fastest, and needs the most VRAM: about 30 GB for ContentV-8B in bf16 (transformer ~16 GB, T5-XXL ~9.5 GB, CLIPs and VAE ~1.5 GB) plus activations.</source>
        <translation>所有组件都常驻 GPU。速度最快，但显存需求最高：ContentV-8B 在 bf16 下约需 30 GB（Transformer 约 16 GB，T5-XXL 约 9.5 GB，CLIP 和 VAE 约 1.5 GB），另加激活值。</translation>
    </message>
    <message>
        <source>Model CPU offload</source>
        <translation>模型 CPU 卸载</translation>
    </message>
    <message>
        <source>Whole components take turns on the GPU; the others wait in system RAM. Peak VRAM is about the transformer (~16 GB in bf16, ~8 GB with 8-bit weights) plus activations. Costs a few seconds per job to move components; 24 GB cards.</source>
        <translation>各组件轮流使用 GPU，其余组件在系统内存中等待。显存峰值约为 Transformer 的大小（bf16 约 16 GB，8 位权重约 8 GB）加上激活值。每个任务要多花几秒钟搬移组件；适合 24 GB 显卡。</translation>
    </message>
    <message>
        <source>Sequential CPU offload</source>
        <translation>顺序 CPU 卸载</translation>
    </message>
    <message>
        <source>Every layer is copied to the GPU just before it runs. Lowest VRAM (a few GB), but much slower: all weights cross PCIe again at every step. A last resort for 8 GB cards.</source>
        <translation>每一层在运行前才复制到 GPU。显存占用最低（几 GB），但速度慢得多：每一步所有权重都要重新经过 PCIe 传输。是 8 GB 显卡的最后选择。</translation>
    </message>
    <message>
        <source>Streamed offload</source>
        <translation>流式卸载</translation>
    </message>
    <message>
        <source>Transformer and T5 blocks stream from pinned system RAM on a side CUDA stream, the next block copying while the current one computes. Near the lowest VRAM (about two blocks of weights) and far faster than sequential offload; needs system RAM for all the weights. 8–16 GB cards.</source>
        <translation>Transformer 和 T5 的模块从锁页系统内存经独立的 CUDA 流传入，当前模块计算时同时拷贝下一个模块。显存占用接近最低（约两个模块的权重），且比顺序卸载快得多；系统内存需要能容纳全部权重。适合 8–16 GB 显卡。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>NVIDIA GPU (CUDA)</source>
        <translation>NVIDIA GPU（CUDA）</translation>
    </message>
    <message>
        <source>Apple GPU (MPS)</source>
        <translation>Apple GPU（MPS）</translation>
    </message>
    <message>
        <source>CPU (slow)</source>
        <translation>CPU（较慢）</translation>
    </message>
    <message>
        <source>float32 (CPU; 2× memory)</source>
        <translation>float32（CPU；内存占用翻倍）</translation>
    </message>
    <message>
        <source>None (full precision)</source>
        <translation>无（全精度）</translation>
    </message>
    <message>
        <source>int8 weights</source>
        <translation>int8 权重</translation>
    </message>
    <message>
        <source>fp8 weights</source>
        <translation>fp8 权重</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Automatic picks the NVIDIA GPU, then an Apple GPU, then the CPU.</source>
        <translation>“自动”会依次选择 NVIDIA GPU、Apple GPU、CPU。</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>Compute precision. Automatic: bfloat16 on GPUs that support it (RTX 30xx and newer), float16 on older ones, float32 on the CPU. The VAE always runs in float32.</source>
        <translation>计算精度。“自动”：支持 bfloat16 的 GPU（RTX 30 系列及更新型号）使用 bfloat16，较旧的 GPU 使用 float16，CPU 使用 float32。VAE 始终以 float32 运行。</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Store the transformer&apos;s and T5&apos;s weights in 8 bits, one scale per output channel. Halves their VRAM (transformer ~16 → ~8 GB, T5 ~9.5 → ~4.8 GB) for a small loss of detail; each layer is widened back just before it runs, so steps are a little slower. fp8 keeps more range than int8. Changing it reloads the model.</source>
        <translation>以 8 位存储 Transformer 和 T5 的权重，每个输出通道一个缩放系数。显存占用减半（Transformer 约 16 → 8 GB，T5 约 9.5 → 4.8 GB），细节略有损失；每层在运行前才恢复为高精度，因此每一步会稍慢。fp8 的数值范围比 int8 更大。更改此项会重新加载模型。</translation>
    </message>
    <message>
        <source>8-bit weights</source>
        <translation>8 位权重</translation>
    </message>
    <message>
        <source>Where the weights live</source>
        <translation>权重存放位置</translation>
    </message>
    <message>
        <source>Savers</source>
        <translation>节省显存</translation>
    </message>
    <message>
        <source>VAE slicing</source>
        <translation>VAE 切片</translation>
    </message>
    <message>
        <source>Decode the video one sample at a time. Saves a little memory while decoding; costs almost nothing.</source>
        <translation>逐个样本解码视频。解码时略微节省内存，几乎没有额外开销。</translation>
    </message>
    <message>
        <source>VAE tiling</source>
        <translation>VAE 分块</translation>
    </message>
    <message>
        <source>Decode the video in overlapping spatial tiles. Saves several GB at the end of a job (768 × 432 × 125 frames needs ~10 GB untiled); a little slower, and faint seams are possible.</source>
        <translation>将视频分成相互重叠的空间图块来解码。可在任务末尾节省数 GB 显存（768 × 432 × 125 帧不分块时约需 10 GB）；稍慢，且可能出现轻微接缝。</translation>
    </message>
    <message>
        <source>Attention slicing</source>
        <translation>注意力切片</translation>
    </message>
    <message>
        <source>Compute attention a slice of queries at a time: the same result with a smaller attention buffer. Helps where no fused attention kernel runs (older GPUs, float32); slower.</source>
        <translation>每次只计算一部分查询的注意力：结果相同，但注意力缓冲区更小。适用于无法使用融合注意力内核的情况（较旧的 GPU、float32）；速度较慢。</translation>
    </message>
    <message>
        <source>Text encoders off GPU after encoding</source>
        <translation>编码后将文本编码器移出 GPU</translation>
    </message>
    <message>
        <source>Move CLIP and T5 to system RAM once the prompt is encoded: frees about 11 GB for the transformer. A new prompt moves them back first (a few seconds). Only with &apos;All on GPU&apos;; the offload modes manage the text encoders themselves.</source>
        <translation>提示词编码完成后，将 CLIP 和 T5 移到系统内存，为 Transformer 腾出约 11 GB 显存。换用新提示词时会先将它们移回（需几秒钟）。仅适用于“全部放在 GPU 上”；各卸载模式会自行管理文本编码器。</translation>
    </message>
    <message>
        <source>Checking this machine…</source>
        <translation>正在检测本机…</translation>
    </message>
    <message>
        <source>Unavailable here: {reason}</source>
        <translation>本机不可用：{reason}</translation>
    </message>
    <message>
        <source>No CUDA GPU is visible to PyTorch on this machine.</source>
        <translation>PyTorch 在本机上找不到 CUDA GPU。</translation>
    </message>
    <message>
        <source>This machine has no Apple GPU.</source>
        <translation>本机没有 Apple GPU。</translation>
    </message>
    <message>
        <source>This GPU does not support bfloat16; use float16.</source>
        <translation>此 GPU 不支持 bfloat16，请使用 float16。</translation>
    </message>
    <message>
        <source>All on one device (the CPU here)</source>
        <translation>全部放在同一设备上（本机为 CPU）</translation>
    </message>
    <message>
        <source>This machine: {gpu}, {vram} GB of VRAM.</source>
        <translation>本机：{gpu}，显存 {vram} GB。</translation>
    </message>
    <message>
        <source>This machine: Apple GPU (MPS).</source>
        <translation>本机：Apple GPU（MPS）。</translation>
    </message>
    <message>
        <source>This machine has no GPU that PyTorch can use: jobs run on the CPU (slowly).</source>
        <translation>本机没有 PyTorch 可用的 GPU：任务将在 CPU 上运行（较慢）。</translation>
    </message>
    <message>
        <source>Only with &apos;All on GPU&apos;: the offload modes manage the text encoders themselves.</source>
        <translation>仅适用于“全部放在 GPU 上”：各卸载模式会自行管理文本编码器。</translation>
    </message>
    <message>
        <source>Only on a GPU: on the CPU there is no VRAM to free.</source>
        <translation>仅适用于 GPU：在 CPU 上没有需要释放的显存。</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Folder with model_index.json</source>
        <translation>包含 model_index.json 的文件夹</translation>
    </message>
    <message>
        <source>The ContentV-8B folder (diffusers layout: transformer/, vae/, text_encoder*/, …).</source>
        <translation>ContentV-8B 模型文件夹（diffusers 目录结构：transformer/、vae/、text_encoder*/ 等）。</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Choose the model folder.</source>
        <translation>选择模型文件夹。</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>最近使用</translation>
    </message>
    <message>
        <source>Model folders used before.</source>
        <translation>以前用过的模型文件夹。</translation>
    </message>
    <message>
        <source>Make a demo model…</source>
        <translation>生成演示模型…</translation>
    </message>
    <message>
        <source>A tiny random-weight model (13 MB) to check the install without the big download.</source>
        <translation>一个随机权重的小模型（13 MB），无需下载大模型即可检查安装是否正常。</translation>
    </message>
    <message>
        <source>Choose the ContentV model folder</source>
        <translation>选择 ContentV 模型文件夹</translation>
    </message>
    <message>
        <source>Clear the list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>The demo model could not be written to {folder}: {error}</source>
        <translation>无法将演示模型写入 {folder}：{error}</translation>
    </message>
    <message>
        <source>Making the demo model…</source>
        <translation>正在生成演示模型…</translation>
    </message>
    <message>
        <source>Checking the folder…</source>
        <translation>正在检查文件夹…</translation>
    </message>
    <message>
        <source>Choose the ContentV-8B folder (the one holding &lt;i&gt;model_index.json&lt;/i&gt;), or make a demo model to check the install.</source>
        <translation>请选择 ContentV-8B 模型文件夹（包含 &lt;i&gt;model_index.json&lt;/i&gt; 的文件夹），或生成一个演示模型来检查安装。</translation>
    </message>
    <message>
        <source>✓ Complete ContentV model · {size} of weights — a small test model</source>
        <translation>✓ 完整的 ContentV 模型 · 权重 {size} — 小型测试模型</translation>
    </message>
    <message>
        <source>✓ Complete ContentV model · {size} of weights</source>
        <translation>✓ 完整的 ContentV 模型 · 权重 {size}</translation>
    </message>
    <message>
        <source>✗ Not a usable ContentV model folder:</source>
        <translation>✗ 不是可用的 ContentV 模型文件夹：</translation>
    </message>
</context>
<context>
    <name>NvmlReader</name>
    <message>
        <source>The NVIDIA driver stopped answering ({error}).</source>
        <translation>NVIDIA 驱动已停止响应（{error}）。</translation>
    </message>
    <message>
        <source>The NVIDIA GPU cannot be read ({error}).</source>
        <translation>无法读取 NVIDIA GPU（{error}）。</translation>
    </message>
</context>
<context>
    <name>VramGauge</name>
    <message>
        <source>Memory use</source>
        <translation>内存占用</translation>
    </message>
    <message>
        <source>GPU …</source>
        <translation>显存 …</translation>
    </message>
    <message>
        <source>RAM …</source>
        <translation>内存 …</translation>
    </message>
    <message>
        <source>GPU {used} / {total} GB</source>
        <translation>显存 {used} / {total} GB</translation>
    </message>
    <message>
        <source> · peak {peak}</source>
        <translation> · 峰值 {peak}</translation>
    </message>
    <message>
        <source> · peak {peak} (last job)</source>
        <translation> · 峰值 {peak}（上个任务）</translation>
    </message>
    <message>
        <source>{gpu}: {used} GB of {total} GB in use (all programs).</source>
        <translation>{gpu}：已用 {used} GB，共 {total} GB（所有程序）。</translation>
    </message>
    <message>
        <source>Highest during this job: {peak} GB.</source>
        <translation>本任务期间最高：{peak} GB。</translation>
    </message>
    <message>
        <source>Highest during the last job: {peak} GB.</source>
        <translation>上个任务期间最高：{peak} GB。</translation>
    </message>
    <message>
        <source>PyTorch&apos;s own peak allocation in the last job: {peak} GB.</source>
        <translation>上个任务中 PyTorch 自身分配的峰值：{peak} GB。</translation>
    </message>
    <message>
        <source>No NVIDIA GPU found — jobs run on the CPU</source>
        <translation>未找到 NVIDIA GPU — 任务将在 CPU 上运行</translation>
    </message>
    <message>
        <source>GPU memory is read through NVIDIA&apos;s driver (NVML); it found no GPU to read.</source>
        <translation>显存信息通过 NVIDIA 驱动（NVML）读取，但没有找到可读取的 GPU。</translation>
    </message>
    <message>
        <source>RAM {used} / {total} GB</source>
        <translation>内存 {used} / {total} GB</translation>
    </message>
    <message>
        <source>System memory in use (all programs).</source>
        <translation>已用的系统内存（所有程序）。</translation>
    </message>
</context>
<context>
    <name>choose_demo_target</name>
    <message>
        <source>Make a demo model</source>
        <translation>生成演示模型</translation>
    </message>
    <message>
        <source>Make a tiny demo model to check the install?</source>
        <translation>要生成一个小型演示模型来检查安装吗？</translation>
    </message>
    <message>
        <source>It has the real model&apos;s layout but random weights, so its videos are coloured noise. It takes about 13 MB and a few seconds, and shows that loading, generating and playing work on this computer.

It will be written to:
{folder}</source>
        <translation>它与真实模型的目录结构相同，但权重是随机的，因此生成的视频是彩色噪点。它约占 13 MB，只需几秒钟，可以验证这台电脑上的加载、生成和播放都能正常工作。

将写入：
{folder}</translation>
    </message>
    <message>
        <source>Create</source>
        <translation>创建</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Folder for the demo model</source>
        <translation>演示模型的文件夹</translation>
    </message>
</context>
<context>
    <name>classify_exception</name>
    <message>
        <source>The computer ran out of system memory (RAM).</source>
        <translation>电脑的系统内存（RAM）已耗尽。</translation>
    </message>
    <message>
        <source>Close other programs, or choose a smaller size or fewer frames.</source>
        <translation>请关闭其他程序，或选择更小的尺寸、更少的帧数。</translation>
    </message>
    <message>
        <source>The GPU ran out of memory ({error}).</source>
        <translation>GPU 显存不足（{error}）。</translation>
    </message>
    <message>
        <source>This is a bug in ContentV Studio.</source>
        <translation>这是 ContentV Studio 的程序缺陷。</translation>
    </message>
    <message>
        <source>The details are in {log_file}.</source>
        <translation>详细信息见 {log_file}。</translation>
    </message>
    <message>
        <source>Something went wrong: {error}</source>
        <translation>出错了：{error}</translation>
    </message>
</context>
<context>
    <name>confirm</name>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
</context>
<context>
    <name>core</name>
    <message>
        <source>Download ContentV-8B (all of its folders) again, or pick the folder that holds model_index.json.</source>
        <translation>请重新下载 ContentV-8B（包括其全部文件夹），或选择包含 model_index.json 的文件夹。</translation>
    </message>
    <message>
        <source>The folder looked complete but a component could not be read; download it again.</source>
        <translation>该文件夹看似完整，但有组件无法读取；请重新下载。</translation>
    </message>
    <message>
        <source>A CUDA GPU was asked for, but PyTorch sees none on this machine.</source>
        <translation>选择了 CUDA GPU，但 PyTorch 在本机上找不到。</translation>
    </message>
    <message>
        <source>Check the NVIDIA driver, or choose --device cpu (slow).</source>
        <translation>请检查 NVIDIA 驱动，或改用 --device cpu（较慢）。</translation>
    </message>
    <message>
        <source>Apple&apos;s MPS device was asked for, but this machine has none.</source>
        <translation>选择了 Apple 的 MPS 设备，但本机没有。</translation>
    </message>
    <message>
        <source>Use --offload none on the CPU.</source>
        <translation>在 CPU 上请使用 --offload none。</translation>
    </message>
    <message>
        <source>Streamed block offload needs a CUDA GPU (it prefetches blocks on a side CUDA stream).</source>
        <translation>流式模块卸载需要 CUDA GPU（它在独立的 CUDA 流上预取模块）。</translation>
    </message>
    <message>
        <source>Choose model or sequential offload instead.</source>
        <translation>请改用模型卸载或顺序卸载。</translation>
    </message>
    <message>
        <source>Choose --dtype float16.</source>
        <translation>请选择 --dtype float16。</translation>
    </message>
    <message>
        <source>Needs a GPU; this machine has none.</source>
        <translation>需要 GPU；本机没有。</translation>
    </message>
    <message>
        <source>Needs a CUDA GPU (side-stream prefetch).</source>
        <translation>需要 CUDA GPU（独立流预取）。</translation>
    </message>
    <message>
        <source>Try, in this order: model CPU offload, VAE tiling, int8 or fp8 quantization, attention slicing, streamed or sequential offload; or a smaller size, fewer frames.</source>
        <translation>请依次尝试：模型 CPU 卸载、VAE 分块、int8 或 fp8 量化、注意力切片、流式或顺序卸载；或者减小尺寸、减少帧数。</translation>
    </message>
    <message>
        <source>Choose another file name.</source>
        <translation>请换一个文件名。</translation>
    </message>
</context>
<context>
    <name>format_bytes</name>
    <message>
        <source>{count} bytes</source>
        <translation>{count} 字节</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>{app} cannot start.</source>
        <translation>{app} 无法启动。</translation>
    </message>
</context>
</TS>
