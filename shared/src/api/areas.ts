/** `/api/v1/areas`: the official area catalogue (import) and the tree each user sees. */
import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const unitFields = {
  name: z.string().trim().min(1).max(200),
  type: z.string().trim().min(1).max(100),
  /** Legacy units (old districts, merged communes) keep their code with validity dates (ARCHITECTURE.md). */
  validFrom: isoDate.optional(),
  validUntil: isoDate.optional(),
};
const villageSchema = z.object({ code: z.string().regex(/^\d{6,10}$/, 'village codes are 6–10 digits'), ...unitFields });
const communeSchema = z.object({
  code: z.string().regex(/^\d{5}$/, 'commune codes are 5 digits'),
  ...unitFields,
  villages: z.array(villageSchema).max(500).optional(),
});
const provinceSchema = z.object({
  code: z.string().regex(/^\d{2}$/, 'province codes are 2 digits'),
  ...unitFields,
  communes: z.array(communeSchema).max(5000),
});
/** The shape of the statistics office catalogue as packaged (`source` and other extra keys are ignored). */
export const areaImportSchema = z.object({ provinces: z.array(provinceSchema).min(1).max(100) });
export const areaImportResponseSchema = z.object({ imported: z.object({ provinces: z.number(), communes: z.number(), villages: z.number() }) });

export type AreaTreeNode = { code: string; name: string; type: string; children: AreaTreeNode[] };
export const areaNodeSchema: z.ZodType<AreaTreeNode> = z.lazy(() =>
  z.object({ code: z.string(), name: z.string(), type: z.string(), children: z.array(areaNodeSchema) }),
);
export const areaTreeSchema = z.object({ items: z.array(areaNodeSchema) });

/** An area as other answers name it. */
export const areaRefSchema = z.object({ code: z.string(), name: z.string(), type: z.string() });

export type AreaImport = z.input<typeof areaImportSchema>;
export type AreaNode = AreaTreeNode;
export type AreaTree = z.infer<typeof areaTreeSchema>;
export type AreaRef = z.infer<typeof areaRefSchema>;
