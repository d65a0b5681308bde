/** The fields a document selects, as schema coordinates (`Order.status`), in the order they appear. */
import { TypeInfo, parse, visit, visitWithTypeInfo, type GraphQLSchema } from 'graphql';

export function coordinatesOf(schema: GraphQLSchema, query: string): string[] {
  let document;
  try {
    document = parse(query);
  } catch {
    return [];
  }
  const typeInfo = new TypeInfo(schema);
  const found = new Set<string>();
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && !node.name.value.startsWith('__')) found.add(`${parent.name}.${node.name.value}`);
      },
    }),
  );
  return [...found];
}
